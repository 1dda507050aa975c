package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Member is one replica set member as replSetGetStatus reports it.
type Member struct {
	Name   string `json:"name"`
	State  string `json:"state"` // stateStr: PRIMARY, SECONDARY, STARTUP2, RECOVERING, (not reachable/healthy)...
	Health int    `json:"health"`
	// Optime is the member's last applied operation (Unix milliseconds).
	Optime int64 `json:"optime"`
	// Lag is how far it is behind the primary (zero for the primary, or
	// when there is none).
	Lag time.Duration `json:"-"`
}

// ReplSet is the replica set's state.
type ReplSet struct {
	Members []Member
}

// Primary is the primary's name, "" when the set has none.
func (r ReplSet) Primary() string {
	for _, m := range r.Members {
		if m.State == "PRIMARY" {
			return m.Name
		}
	}
	return ""
}

// replSetJS prints replSetGetStatus as rcgen reads it
// (https://www.mongodb.com/docs/manual/reference/command/replSetGetStatus/:
// members[].name, stateStr, health, optimeDate).
func (s Stack) replSetJS() string {
	return s.connectJS() + ` const s = c.adminCommand({ replSetGetStatus: 1 }); print(JSON.stringify({ ok: s.ok, errmsg: s.errmsg, members: (s.members || []).map(m => ({ name: m.name, state: m.stateStr, health: m.health, optime: m.optimeDate ? m.optimeDate.getTime() : 0 })) }));`
}

// ReplSetStatus reads rs.status() through mongosh in a running member.
func (s Stack) ReplSetStatus(ctx context.Context) (ReplSet, error) {
	out, err := s.Mongo(ctx, s.replSetJS())
	if err != nil {
		return ReplSet{}, err
	}
	var r struct {
		OK      float64  `json:"ok"`
		ErrMsg  string   `json:"errmsg"`
		Members []Member `json:"members"`
	}
	if err := json.Unmarshal(lastLine(out), &r); err != nil {
		return ReplSet{}, fmt.Errorf("reading rs.status(): unexpected answer %q", strings.TrimSpace(string(out)))
	}
	if r.OK != 1 {
		return ReplSet{}, fmt.Errorf("rs.status() failed: %s", r.ErrMsg)
	}
	rs := ReplSet{Members: r.Members}
	var primary int64
	for _, m := range rs.Members {
		if m.State == "PRIMARY" {
			primary = m.Optime
		}
	}
	for i, m := range rs.Members {
		if primary > 0 && m.Optime > 0 && m.Optime < primary {
			rs.Members[i].Lag = time.Duration(primary-m.Optime) * time.Millisecond
		}
	}
	return rs, nil
}

// diskJS prints the file system holding the database: dbStats's
// fsUsedSize and fsTotalSize (bytes; MongoDB 3.6 and later,
// https://www.mongodb.com/docs/manual/reference/command/dbStats/), of the
// admin database: a database that does not exist yet reports 0 for both.
func (s Stack) diskJS() string {
	return s.connectJS() + ` const d = c.getDB("admin").runCommand({ dbStats: 1 }); print(JSON.stringify({ used: d.fsUsedSize, total: d.fsTotalSize }));`
}

// DatabaseDisk reads how much of the database's file system is used and
// its size, in bytes.
func (s Stack) DatabaseDisk(ctx context.Context) (used, total int64, err error) {
	out, err := s.Mongo(ctx, s.diskJS())
	if err != nil {
		return 0, 0, err
	}
	var d struct{ Used, Total float64 }
	if err := json.Unmarshal(lastLine(out), &d); err != nil || d.Total <= 0 {
		return 0, 0, fmt.Errorf("reading dbStats: unexpected answer %q", strings.TrimSpace(string(out)))
	}
	return int64(d.Used), int64(d.Total), nil
}
