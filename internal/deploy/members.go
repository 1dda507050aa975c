package deploy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rcgen/rcgen/internal/spec"
)

// memberMove is one MongoDB member of a Swarm stack going to another node.
type memberMove struct{ member, from, to string }

func (m memberMove) String() string { return fmt.Sprintf("%s from %s to %s", m.member, m.from, m.to) }

// CheckMemberNodes refuses a Swarm plan that puts a MongoDB member on
// another node than the one its data is on: the member's volume is local
// to its node, and a member started elsewhere starts empty. allowMove
// (--force=member-node) lets one member move, and only when the others are
// a majority of the set without it: the moved member then copies the data
// from them (an initial sync) and the set keeps a primary meanwhile. Two
// members moved at once leave one of three with the data, which elects no
// primary; the only member of a set of one has nothing to copy from. So a
// plan that moves more than one member is refused even when confirmed,
// with the one move to make now; a set of one moves by backup and restore.
// Messages name the confirmation {force:member-node}, which the cli words.
func (d *Deployment) CheckMemberNodes(nodes []string, allowMove bool) error {
	var moves []memberMove
	for i, n := range nodes {
		member := fmt.Sprintf("mongodb-%d", i+1)
		if old := d.Compose.MemberNodes[member]; old != "" && old != n {
			moves = append(moves, memberMove{member, old, n})
		}
	}
	if len(moves) == 0 {
		return nil
	}
	members := len(nodes)
	// What is left holds a majority of the voting members: more than half.
	keepsMajority := members-len(moves) > members/2
	switch {
	case members == 1:
		m := moves[0]
		return &spec.FieldError{Key: spec.KeyNodes, Msg: fmt.Sprintf(
			"this inventory would move %s, and a member's data is a volume on its node: the only member would start empty on %s, with no other member to copy the data from. "+
				"Keep %s (label it db to keep the choice), or move the data by backup and restore: back up with mongodump on %s as README.md says (Back up), "+
				"re-run with the new inventory, deploy, restore the dump into the new member with mongorestore, and only then remove the old volume from %s",
			m, m.to, m.from, m.from, m.from)}
	case len(moves) == 1 && keepsMajority && allowMove:
		return nil // one of three: it syncs from the other two (README)
	case len(moves) == 1 && keepsMajority:
		return &spec.FieldError{Key: spec.KeyNodes, Override: KeyMemberNode, Msg: fmt.Sprintf(
			"this inventory would move %s, and a member's data is a volume on its node: keep %s (label the members' nodes db to keep the choice), "+
				"or move this one member as README.md says: it starts empty on %s and copies the data from the other %d",
			moves[0], moves[0].from, moves[0].to, members-1)}
	}
	return &spec.FieldError{Key: spec.KeyNodes, Msg: d.oneMoveAtATime(nodes, moves)}
}

// oneMoveAtATime explains why moves (more than one member) are refused,
// and says which one member may move now, and how, and what comes next.
func (d *Deployment) oneMoveAtATime(nodes []string, moves []memberMove) string {
	var what []string
	for _, m := range moves {
		what = append(what, m.String())
	}
	project := d.Compose.Name
	if project == "" {
		project = "rocketchat"
	}
	msg := fmt.Sprintf("this inventory would move %d MongoDB members at once (%s), and a member's data is a volume on its node: each moved member starts empty and copies the data from the others, "+
		"so only a set that keeps a majority of members with the data while one moves keeps its data and a primary; {force:member-node} moves one member per run, never more",
		len(moves), strings.Join(what, ", "))
	old := make([]string, len(nodes))
	oldSet := map[string]bool{}
	for i := range nodes {
		old[i] = d.Compose.MemberNodes[fmt.Sprintf("mongodb-%d", i+1)]
		if old[i] == "" {
			old[i] = nodes[i] // a member the stack did not have: it goes where planned
		}
		oldSet[old[i]] = true
	}
	// A node the plan puts a member on that holds no member's data yet.
	var fresh []string
	for _, n := range nodes {
		if !oldSet[n] && !slices.Contains(fresh, n) {
			fresh = append(fresh, n)
		}
	}
	if len(fresh) == 0 {
		return msg + fmt.Sprintf(". This inventory only puts the members on each other's nodes, which moves data for nothing: keep each member where its data is: "+
			"give %s the db role, in that order in the inventory (members follow the inventory's order)", strings.Join(old, ", "))
	}
	// The member to move now: one whose node leaves the set (a node taken
	// out of the inventory), else the first; to its planned node when that
	// holds no member's data, else to the first node that holds none.
	now := moves[0]
	for _, m := range moves {
		if !slices.Contains(nodes, m.from) {
			now = m
			break
		}
	}
	if oldSet[now.to] {
		now.to = fresh[0]
	}
	next := slices.Clone(old)
	var keep []string
	for i := range next {
		member := fmt.Sprintf("mongodb-%d", i+1)
		if member == now.member {
			next[i] = now.to
			continue
		}
		keep = append(keep, fmt.Sprintf("%s on %s", member, next[i]))
	}
	return msg + fmt.Sprintf(". Move %s now, keeping %s: give exactly %s the db role, in that order in the inventory (members follow the inventory's order), "+
		"and re-run with {force:member-node}; on a manager, label %s rcgen.%s=true and remove that label from %s; deploy; "+
		"wait until %s is SECONDARY again (docker service logs %s_%s shows its initial sync end), then remove its old volume from %s. "+
		"Then re-run with the inventory you want: rcgen names the next member that may move",
		now, strings.Join(keep, " and "), strings.Join(next, ", "), now.to, now.member, now.from, now.member, project, now.member, now.from)
}
