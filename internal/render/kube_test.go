package render_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gen "github.com/rcgen/rcgen/internal/generate"
	"github.com/rcgen/rcgen/internal/golden"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// kubeProfile is a Kubernetes deployment with a golden tree (the two
// examples in examples/ show the common ones).
type kubeProfile struct {
	name    string
	nodes   []string
	answers func(*spec.Answers)
}

var kubeProfiles = []kubeProfile{
	{"kubernetes-openshift-gateway-s3-bundled", []string{"node-1=8:16GiB:db", "node-2=8:16GiB:db", "node-3=8:16GiB:db", "node-4=8:16GiB"}, func(a *spec.Answers) {
		a.OpenShift = true
		a.License, a.MongoDBMembers = "TEST-LICENCE-NOT-REAL", 3
		a.KubeNamespace, a.StorageClass = "chat", "fast-ssd"
		a.Ingress, a.GatewayName = spec.IngressGateway, "gateway-system/public"
		a.KubeMonitoring = spec.KubeMonitoringBundled
		a.AppEmail, a.SMTPHost, a.SMTPFrom, a.SMTPUser, a.SMTPPassword = true, "smtp.example.com:587", "chat@example.com", "chat", "p#ss w$rd"
		a.BackupPassphrase = "correct horse battery staple"
		a.BackupTarget = "s3://rocketchat-backups/chat"
		a.BackupS3Endpoint, a.BackupS3Region = "https://s3.example.com", "eu-central-1"
		a.BackupS3AccessKey, a.BackupS3SecretKey = "TESTACCESSKEY", "TEST/SECRET+KEY"
		a.BackupSchedule = "6h"
	}},
	{"kubernetes-own-certificate-1-member-no-monitoring", []string{"node-1=4:8GiB", "node-2=4:8GiB"}, func(a *spec.Answers) {
		a.Monitoring, a.MongoDBMembers = false, 1
		a.TLSCert, a.TLSKey = "../certs/chat.example.com.crt", "../certs/chat.example.com.key"
		a.TLSCertPEM, a.TLSKeyPEM = testCert, testKey
		a.RocketChatVersion = "7.10.5"
	}},
}

func kubeFiles(t testing.TB, p kubeProfile) (render.Files, sizing.Plan) {
	t.Helper()
	a := spec.Default()
	a.Target, a.Domain, a.Email = spec.TargetKubernetes, "chat.example.com", "admin@example.com"
	for _, n := range p.nodes {
		if err := a.Nodes.Set(n); err != nil {
			t.Fatal(err)
		}
	}
	p.answers(&a)
	a.KubeDefaults()
	if err := a.Validate(); err != nil {
		t.Fatalf("answers: %v", err)
	}
	plan, err := sizing.ComputeKube(a.Nodes, gen.Inputs(a, false))
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	files, err := render.Generate(context.Background(), render.Input{Answers: a, Plan: plan, Secrets: fixedSecrets(t), RcgenVersion: "test", Rerun: "rcgen generate --out . --force"})
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return files, plan
}

// TestKubeGolden compares every generated file with testdata/golden/<profile>.
func TestKubeGolden(t *testing.T) {
	for _, p := range kubeProfiles {
		t.Run(p.name, func(t *testing.T) {
			files, _ := kubeFiles(t, p)
			golden.Tree(t, filepath.Join("testdata", "golden", p.name), asMap(files), *update, "make golden", nil)
		})
	}
}

// TestKubeMembersOnTheirNodes: the members may run only on the plan's
// member nodes, each on its own (required anti-affinity), and the
// annotation a re-run reads says which.
func TestKubeMembersOnTheirNodes(t *testing.T) {
	files, plan := kubeFiles(t, kubeProfiles[0])
	objs, err := render.KubeObjects(files)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(objs, func(o render.KubeObject) bool { return o.Kind() == "StatefulSet" })
	if i < 0 {
		t.Fatal("no StatefulSet")
	}
	mongo := string(mustGet(t, files, render.KubeMongoFile).Content)
	for _, n := range plan.Kube.MemberNodes {
		if !strings.Contains(mongo, "- \""+n+"\"") {
			t.Errorf("the members' nodeAffinity lacks %s", n)
		}
	}
	if want := render.KubeMemberNodesAnnotation + `: "node-1,node-2,node-3"`; !strings.Contains(mongo, want) {
		t.Errorf("mongodb.yaml lacks %s", want)
	}
	if !strings.Contains(mongo, "replicas: 3") {
		t.Error("the StatefulSet does not run 3 members")
	}
}

// TestKubeInvariantsCatch: the check rcgen runs before writing refuses
// each broken rule, naming the object (a check that cannot fail checks
// nothing).
func TestKubeInvariantsCatch(t *testing.T) {
	base, _ := kubeFiles(t, kubeProfiles[0])
	if err := render.CheckKube(base); err != nil {
		t.Fatalf("the generated deployment fails its own check: %v", err)
	}
	cases := []struct {
		name, file, old, new, want string
	}{
		{"no memory limit", render.KubeNATSFile, "            limits:\n              memory: 128Mi\n", "            limits: {}\n", "container nats has no memory limit"},
		{"privileged", render.KubeNATSFile, "            allowPrivilegeEscalation: false\n", "            allowPrivilegeEscalation: false\n            privileged: true\n", "container nats is privileged"},
		{"hostPath", render.KubeAppFile, "        - name: tmp\n          emptyDir:\n            sizeLimit: 1Gi\n---\napiVersion: v1\nkind: Service", "        - name: tmp\n          hostPath:\n            path: /var/lib\n---\napiVersion: v1\nkind: Service", "mounts the node's path /var/lib"},
		{"members may share a node", render.KubeMongoFile, "topologyKey: kubernetes.io/hostname", "topologyKey: topology.kubernetes.io/zone", "its members may share a node"},
		{"a Service selects nothing", render.KubeNATSFile, "    app.kubernetes.io/name: \"nats\"\n  ports:", "    app.kubernetes.io/name: \"natz\"\n  ports:", "no pod template carries those labels"},
		{"a missing Secret", render.KubeMongoInitFile, "name: mongodb\n                  key: root-password", "name: mongodb-typo\n                  key: root-password", "reads Secret mongodb-typo, which nothing makes"},
		{"a missing key", render.KubeMongoInitFile, "key: root-password", "key: root-pasword", "reads key root-pasword of Secret mongodb"},
		{"a NodePort", render.KubeNATSFile, "\nspec:\n  selector:\n", "\nspec:\n  type: NodePort\n  selector:\n", "is of type NodePort"},
		{"runs as root maybe", render.KubeNATSFile, "        runAsNonRoot: true\n", "", "does not set runAsNonRoot: true"},
		{"an unpinned image", render.KubeNATSFile, "nats:2.", "nats-latest-", "which names no version"},
		{"an unlisted manifest", render.KustomizationFile, "  - kubernetes/nats.yaml\n", "", "does not list kubernetes/nats.yaml"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := replaceInFile(t, base, c.file, c.old, c.new)
			err := render.CheckKube(files)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want %q", err, c.want)
			}
		})
	}
}

// TestKubeSecretsStayInFiles: every secret is a file of mode 0600 that
// kustomize reads, never a value in a manifest.
func TestKubeSecretsStayInFiles(t *testing.T) {
	files, _ := kubeFiles(t, kubeProfiles[0])
	secrets := fixedSecrets(t)
	for _, f := range files {
		if strings.HasPrefix(f.Path, "secrets/") && (f.Mode != 0o600 || !f.Secret) {
			t.Errorf("%s: mode %o, secret %v", f.Path, f.Mode, f.Secret)
		}
		if strings.HasPrefix(f.Path, render.KubeDir) || f.Path == render.KustomizationFile {
			for _, s := range []string{secrets.MongoRootPassword, secrets.MongoRocketChatPassword, secrets.MongoKeyfile, "p#ss w$rd", "TEST-LICENCE-NOT-REAL"} {
				if strings.Contains(string(f.Content), s) {
					t.Errorf("%s holds a secret's value", f.Path)
				}
			}
		}
	}
	k := string(mustGet(t, files, render.KustomizationFile).Content)
	for _, want := range []string{"license=secrets/rocketchat-license", "smtp-password=secrets/smtp-password", "passphrase=secrets/backup-passphrase", "rclone.conf=secrets/rclone.conf"} {
		if !strings.Contains(k, want) {
			t.Errorf("kustomization.yaml does not generate %s", want)
		}
	}
}

// TestKubeOpenShift: with --openshift no pod names a user, group or
// fsGroup (restricted-v2 assigns them and refuses others) and every pod
// still runs as non-root with the runtime's seccomp profile; without it
// the pods name their images' users by number, as runAsNonRoot needs on
// plain Kubernetes. Either way kubectl apply -k deploys the directory
// itself: no overlay (kustomize refuses one inside its base).
func TestKubeOpenShift(t *testing.T) {
	for _, p := range kubeProfiles {
		files, _ := kubeFiles(t, p)
		openshift := strings.Contains(p.name, "openshift")
		if _, ok := files.Get(render.OpenShiftKustomization); ok {
			t.Errorf("%s: an openshift/ overlay is written", p.name)
		}
		objs, err := render.KubeObjects(files)
		if err != nil {
			t.Fatal(err)
		}
		pods := 0
		for _, o := range objs {
			var path []string
			switch o.Kind() {
			case "Deployment", "StatefulSet", "Job":
				path = []string{"spec", "template", "spec", "securityContext"}
			case "CronJob":
				path = []string{"spec", "jobTemplate", "spec", "template", "spec", "securityContext"}
			default:
				continue
			}
			pods++
			sc := o.Map(path...)
			if sc["runAsNonRoot"] != true || o.Map(append(path, "seccompProfile")...)["type"] != "RuntimeDefault" {
				t.Errorf("%s: %s %s: pod securityContext %v is not restricted", p.name, o.Kind(), o.Name(), sc)
			}
			_, fixed := sc["runAsUser"]
			_, group := sc["fsGroup"]
			if openshift && (fixed || group) {
				t.Errorf("%s: %s %s names a user or fsGroup, which restricted-v2 refuses: %v", p.name, o.Kind(), o.Name(), sc)
			}
			if !openshift && !fixed {
				t.Errorf("%s: %s %s names no user: the kubelet cannot check runAsNonRoot for an image whose user is a name", p.name, o.Kind(), o.Name())
			}
		}
		if pods < 4 {
			t.Errorf("%s: %d pod templates checked", p.name, pods)
		}
	}
}

// TestKubeProbesByRelease: before 7.11 /health fails every pod at once
// while the watcher lags, so the probes only ask for HTTP.
func TestKubeProbesByRelease(t *testing.T) {
	old, _ := kubeFiles(t, kubeProfiles[1])
	app := string(mustGet(t, old, render.KubeAppFile).Content)
	if strings.Contains(app, "path: /health") && strings.Contains(app, "livenessProbe:\n            httpGet") {
		t.Error("Rocket.Chat 7.10 gets a /health liveness probe")
	}
	cur, _ := kubeFiles(t, kubeProfiles[0])
	if app := string(mustGet(t, cur, render.KubeAppFile).Content); !strings.Contains(app, "readinessProbe:\n            httpGet:\n              path: /health") {
		t.Error("the current release has no /health readiness probe")
	}
}

// replaceInFile replaces old by new once in the file at path.
func replaceInFile(t *testing.T, files render.Files, path, old, new string) render.Files {
	t.Helper()
	out := slices.Clone(files)
	for i, f := range out {
		if f.Path == path && strings.Contains(string(f.Content), old) {
			out[i].Content = []byte(strings.Replace(string(f.Content), old, new, 1))
			return out
		}
	}
	t.Fatalf("test is stale: %s does not hold %q", path, old)
	return nil
}
