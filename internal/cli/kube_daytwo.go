package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/rcgen/rcgen/internal/deploy"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/spec"
	"github.com/rcgen/rcgen/internal/upgrade"
)

// kubeAnswers returns the answers of d when it is a Kubernetes deployment.
// The day-two commands that run docker never run against one: each says
// what to do instead (kubeRefusal), and upgrade --dry-run prints its plan
// as kubectl commands.
func kubeAnswers(d *deploy.Deployment) (spec.Answers, bool) {
	if d == nil || d.Answers == nil {
		return spec.Answers{}, false
	}
	a, _, err := spec.Resolve(*d.Answers)
	if err != nil || !a.Kubernetes() {
		return spec.Answers{}, false
	}
	return a, true
}

// kubeRefusal is what command does not do on the Kubernetes deployment
// in dir, and what does it there.
func kubeRefusal(command string, a spec.Answers, dir string) error {
	ns := a.Namespace()
	readme := filepath.Join(dir, render.ReadmeFile)
	var what string
	switch command {
	case "backup":
		what = fmt.Sprintf("take a backup with the CronJob's template: kubectl -n %s create job --from=cronjob/%s backup-now (%s: Backups)", ns, render.KubeBackup, readme)
	case "restore":
		what = fmt.Sprintf("restore by hand as %s says (Restore): scale the app to 0, load the dump with mongorestore into the replica set, scale it back", readme)
	case "up":
		what = fmt.Sprintf("deploy it with kubectl apply -k %s, as %s says (Deploy)", shellArg(dir), readme)
	case "status":
		what = fmt.Sprintf("see it with kubectl -n %s get pods,jobs,pvc and kubectl -n %s rollout status deployment/%s", ns, ns, render.KubeApp)
	case "doctor":
		what = fmt.Sprintf("check the manifests against the cluster with kubectl apply -k %s --dry-run=server, and what runs with kubectl -n %s get events --sort-by=.lastTimestamp", shellArg(dir), ns)
	case "upgrade":
		what = fmt.Sprintf("see the steps and their kubectl commands with rcgen upgrade --to VERSION --dry-run --dir %s, and apply each as it says", shellArg(dir))
	}
	return fmt.Errorf("%s is a Kubernetes deployment (namespace %s), and rcgen %s runs docker against a host, never against a cluster: %s", dir, ns, command, what)
}

// printKubeUpgrade prints the kubectl commands of an upgrade plan on the
// Kubernetes deployment in dir: each Rocket.Chat step is a re-run and an
// apply (the migration Job of the release runs first, the app pods roll
// once it is done); each MongoDB step the members' image, rolled one
// member at a time by the StatefulSet; each featureCompatibilityVersion
// step a command on the primary.
func printKubeUpgrade(w io.Writer, p upgrade.Plan, a spec.Answers, dir string) {
	ns := a.Namespace()
	d := shellArg(dir)
	fmt.Fprintf(w, "\nOn Kubernetes (namespace %s), step by step:\n", ns)
	n := 0
	step := func(format string, args ...any) {
		n++
		fmt.Fprintf(w, "%3d. %s\n", n, fmt.Sprintf(format, args...))
	}
	for _, s := range p.Steps {
		switch s.Kind {
		case upgrade.Backup:
			step("back up, and keep the backup off the cluster:\n       kubectl -n %s create job --from=cronjob/%s before-upgrade\n       kubectl -n %s wait --for=condition=complete job/before-upgrade --timeout=2h", ns, render.KubeBackup, ns)
		case upgrade.RocketChat:
			job := render.KubeAppMigrate + "-" + strings.NewReplacer(".", "-", "+", "-").Replace(s.RocketChat)
			step("Rocket.Chat %s: one process migrates the database first (the Job %s), then the app pods roll one at a time:\n       rcgen generate --dir %s --rocketchat-version %s\n       kubectl apply -k %s\n       kubectl -n %s wait --for=condition=complete job/%s --timeout=2h\n       kubectl -n %s rollout status deployment/%s --timeout=30m",
				s.RocketChat, job, d, s.RocketChat, d, ns, job, ns, render.KubeApp)
		case upgrade.MongoDB:
			step("MongoDB %s: the StatefulSet replaces one member at a time, the highest first:\n       rcgen generate --dir %s --rocketchat-version %s\n       kubectl apply -k %s\n       kubectl -n %s rollout status statefulset/%s --timeout=30m",
				s.MongoDB, d, s.RocketChat, d, ns, render.KubeMongo)
		case upgrade.FCV:
			step("featureCompatibilityVersion %s, on the primary:\n       kubectl -n %s exec -i %s-0 -- sh -c 'mongosh --quiet --norc \"mongodb://root:$(cat)@%s-0.%s:27017/admin?replicaSet=%s\" --eval '\\''db.adminCommand({ setFeatureCompatibilityVersion: \"%s\", confirm: true })'\\''' < %s",
				s.FCV, ns, render.KubeMongo, render.KubeMongo, render.KubeMongo, render.ReplicaSet, s.FCV, shellArg(filepath.Join(dir, "secrets", "mongodb-root-password")))
		}
	}
	fmt.Fprintf(w, "Wait for each step to be healthy (kubectl -n %s get pods) before the next. Rocket.Chat never migrates back: a rollback is a restore of the backup.\n", ns)
}
