package deploy

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/spec"
)

// Names of the confirmations a Kubernetes re-run's refusals accept
// (--force=NAME).
const (
	KeyNamespace    = "namespace"
	KeyStorageClass = "storage-class"
)

// memberNodesRe is the annotation of the MongoDB StatefulSet that records
// the nodes its members may run on (render: kubernetes/mongodb.yaml).
var memberNodesRe = regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(render.KubeMemberNodesAnnotation) + `: "([^"]*)"$`)

// CheckKube refuses a re-run of a Kubernetes deployment that would strand
// its data: a MongoDB member's data is a PersistentVolumeClaim in the
// namespace, of the storage class, bound (for local volumes) to its node.
// A new namespace or storage class gives every member a new, empty claim;
// new member nodes move members away from their volumes; fewer members
// leave a set that elects no primary. Each refusal names its answer and
// the confirmation that accepts it (forced), except shrinking the set,
// which nothing accepts.
func (d *Deployment) CheckKube(a spec.Answers, memberNodes []string, forced func(string) bool) error {
	if d.Answers == nil || d.State != Rcgen {
		return nil
	}
	old, _, err := spec.Resolve(*d.Answers)
	if err != nil || !old.Kubernetes() {
		return nil
	}
	var errs []error
	if o, n := old.Namespace(), a.Namespace(); o != n && !forced(KeyNamespace) {
		errs = append(errs, &spec.FieldError{Key: spec.KeyKubeNamespace, Override: KeyNamespace, Msg: fmt.Sprintf(
			"this deployment's MongoDB volumes (PersistentVolumeClaims) are in namespace %q, and {kube_namespace} %s would start every member empty in a new one: keep %q, or move the data by backup and restore (README.md: Restore) and confirm",
			o, n, o)})
	}
	if o, n := old.StorageClass, a.StorageClass; o != n && !forced(KeyStorageClass) {
		errs = append(errs, &spec.FieldError{Key: spec.KeyStorageClass, Override: KeyStorageClass, Msg: fmt.Sprintf(
			"this deployment's MongoDB volumes are of storage class %q, and a StatefulSet's volumeClaimTemplates cannot change: {storage_class} %q would need new claims, empty ones. Keep %q, or move the data by backup and restore (README.md: Restore) and confirm",
			classWord(o), classWord(n), classWord(o))})
	}
	if old.MongoDBMembers > a.MongoDBMembers {
		errs = append(errs, &spec.FieldError{Key: spec.KeyMembers, Msg: fmt.Sprintf(
			"this deployment runs %d MongoDB members, and fewer would leave the set without a majority (the removed members still vote): keep %d",
			old.MongoDBMembers, old.MongoDBMembers)})
	}
	if f, err := d.read(render.KubeMongoFile); err == nil && f != nil {
		if m := memberNodesRe.FindSubmatch(f); m != nil && len(m[1]) > 0 {
			was := strings.Split(string(m[1]), ",")
			var gone []string
			for _, n := range was {
				if !slices.Contains(memberNodes, n) {
					gone = append(gone, n)
				}
			}
			if len(gone) > 0 && !(len(gone) == 1 && len(was) == 3 && forced(KeyMemberNode)) {
				override := KeyMemberNode
				if len(gone) > 1 || len(was) == 1 {
					override = ""
				}
				errs = append(errs, &spec.FieldError{Key: spec.KeyNodes, Override: override, Msg: fmt.Sprintf(
					"this inventory takes the MongoDB members off %s, and a member's volume stays on the node it was made on (local volumes are bound to it): keep the members' nodes %s (label them db to keep the choice); one member of three may move per run, and resyncs from the other two",
					strings.Join(gone, ", "), strings.Join(was, ", "))})
			}
		}
	}
	return errors.Join(errs...)
}

func classWord(c string) string {
	if c == "" {
		return "(the cluster's default)"
	}
	return c
}
