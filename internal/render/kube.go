package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rcgen/rcgen/internal/catalog"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// The Kubernetes target's files. kustomization.yaml sits at the root of
// the deployment directory, so `kubectl apply -k DIR` deploys it; the
// manifests are in kubernetes/, the secret files in secrets/ beside them
// (mode 0600, read by kustomize's secretGenerator).
const (
	KustomizationFile = "kustomization.yaml"
	KubeDir           = "kubernetes/"
	KubeNamespaceFile = "kubernetes/namespace.yaml"
	KubeAppFile       = "kubernetes/rocketchat.yaml"
	KubeNATSFile      = "kubernetes/nats.yaml"
	KubeMongoFile     = "kubernetes/mongodb.yaml"
	KubeMongoInitFile = "kubernetes/mongodb-init.yaml"
	KubeExporterFile  = "kubernetes/mongodb-exporter.yaml"
	KubeIngressFile   = "kubernetes/ingress.yaml"
	KubeBackupFile    = "kubernetes/backup.yaml"
	KubeReadmeFile    = "kubernetes/README.md"
	// OpenShiftKustomization is where earlier rcgen versions wrote an
	// OpenShift overlay (kustomize refuses it: an overlay inside its base's
	// directory is a cycle); kept so a re-run removes it as rcgen's own.
	// --openshift writes the manifests for OpenShift instead.
	OpenShiftKustomization = "openshift/kustomization.yaml"
	// KubeMemberNodesAnnotation records on the MongoDB StatefulSet the
	// nodes its members may run on: a re-run refuses to move them away
	// from their volumes (deploy.CheckKube).
	KubeMemberNodesAnnotation = "rcgen.io/member-nodes"
)

// Kubernetes object names besides the components of kube_contract.go.
const (
	KubeSecretMongo      = "mongodb"          // passwords and the keyfile
	KubeSecretApp        = "rocketchat"       // licence, SMTP password
	KubeSecretBackup     = "backup"           // passphrase, rclone config
	KubeSecretDeployment = "deployment-files" // what every backup holds
	KubeTLSSecret        = "rocketchat-tls"
	KubeConfigMongoInit  = "mongodb-init"
	KubeConfigBackup     = "backup-scripts"
	KubeBackupClaim      = "backups"
	KubeIssuer           = "rocketchat"
)

// UIDs the base manifests run each image as (runAsNonRoot needs a numeric
// user where the image names its user: the kubelet cannot tell whether a
// user name is root, kubernetes/kubernetes pkg/kubelet/kuberuntime
// verifyRunAsNonRoot). The openshift/ overlay drops them: restricted-v2
// gives each pod a UID and fsGroup of the namespace's range.
const (
	// AppUID: the Rocket.Chat image's rocketchat user (65533; the image
	// runs as it by number from 8.5, RocketChat/helm-charts
	// rocketchat/README.md).
	AppUID = 65533
	// NATSUID and ExporterUID: the nats and exporter images need no
	// user of their own (no writable paths): nobody.
	NATSUID     = 65534
	ExporterUID = 65534
	// BackupUID: the mongodb user of the Docker Official Image mongo
	// (docker-library/mongo Dockerfile: groupadd -r -g 999, useradd -r -u 999).
	BackupUID = 999
)

// Kube is what the Kubernetes manifests need beside Data.
type Kube struct {
	KubeOptions
	// OpenShift leaves every fixed user, group and fsGroup out of the pods
	// (the openshift answer): restricted-v2 assigns them.
	OpenShift bool
	// MemberNodes are the nodes the MongoDB members may run on (the plan's).
	MemberNodes []string
	// AppNodes are the nodes the app pods may run on (the plan's: where
	// they fit beside what else it placed there).
	AppNodes []string
	// MaxSurge and MaxUnavailable are the app Deployment's rollout: one
	// pod more while the old ones serve where the nodes have room for it
	// (the plan's start-first), else a few old ones stopped first (a pod
	// with no node to go to would stay pending and the rollout never end).
	MaxSurge, MaxUnavailable int
	// AppCPU and MongoCPU are the pods' CPU requests: half of the cores
	// the plan counts for each, since a node's allocatable CPU is less
	// than its cores (the kubelet's and the system's reservations), and a
	// request of every core would leave the last pod unschedulable
	// (https://kubernetes.io/docs/tasks/administer-cluster/reserve-compute-resources/).
	// No CPU limits: a throttled Node process stalls every websocket it holds.
	AppCPU, MongoCPU string
	// MongoInitJob and MigrateJob are named after what they run: a Job's
	// pod template cannot change, so a new configuration is a new Job.
	MongoInitJob, MigrateJob string
	// Issuer is the cert-manager Issuer's kind of certificate: "acme",
	// "selfsigned", or "" (the operator's own certificate, or plain http).
	Issuer string
	// TLS says whether the Ingress or Gateway serves https.
	TLS bool
	// Schedule is the backup CronJob's schedule (UTC).
	Schedule string
	// BackupSize is the backup volume's size request.
	BackupSize string
}

// KubeGiB is the backup volume's size per kept backup of a GiB of data:
// rcgen cannot know the data, so it asks for a size the operator grows.
const kubeBackupSize = "20Gi"

func deriveKube(d *Data) *Kube {
	a := d.Answers
	k := &Kube{
		KubeOptions: KubeOptions{
			Namespace:    a.Namespace(),
			StorageClass: a.StorageClass,
			Ingress:      a.IngressKind(),
			Monitoring:   a.KubeMonitoringMode(),
			Gateway:      a.GatewayName,
		},
		OpenShift:   a.OpenShift,
		MemberNodes: d.Plan.Kube.MemberNodes,
		AppNodes:    d.Plan.Kube.AppNodes,
		MaxSurge:    1,
		AppCPU:      "500m",
		MongoCPU:    KubeCPU(max(0.5, d.Plan.MongoDBCPUs/2)),
		MigrateJob:  KubeAppMigrate + "-" + strings.NewReplacer(".", "-", "+", "-").Replace(strings.ToLower(a.RocketChatVersion)),
		BackupSize:  kubeBackupSize,
	}
	if u := d.Plan.Kube.AppUpdate; u.Order == sizing.StopFirst {
		k.MaxSurge, k.MaxUnavailable = 0, max(1, u.Parallelism)
	}
	switch d.TLSMode {
	case spec.TLSACME:
		k.Issuer, k.TLS = "acme", true
	case spec.TLSInternal:
		k.Issuer, k.TLS = "selfsigned", true
	case spec.TLSOwn:
		k.TLS = true
	}
	if d.Plan.Has(sizing.Backup) {
		if sch, err := spec.ParseSchedule(a.BackupSchedule); err == nil {
			k.Schedule = cronOf(sch)
		}
	}
	return k
}

// cronOf writes a backup schedule as a CronJob's (UTC: timeZone is set).
func cronOf(s spec.Schedule) string {
	if s.Every > 0 {
		h := int(s.Every.Hours())
		if h >= 1 && h < 24 && 24%h == 0 {
			return fmt.Sprintf("0 */%d * * *", h)
		}
		if m := int(s.Every.Minutes()); m >= 1 && m < 60 && 60%m == 0 {
			return fmt.Sprintf("*/%d * * * *", m)
		}
		return "0 */1 * * *"
	}
	return fmt.Sprintf("%d %d * * *", s.Minute, s.Hour)
}

// Labels are the labels of component's objects, in a fixed order.
func (k *Kube) Labels(d *Data, component string) []KV {
	return sortedKV(KubeLabels(d.Answers.Project, component))
}

// Selector is the label selector of component's pods.
func (k *Kube) Selector(d *Data, component string) []KV {
	return sortedKV(KubeSelector(d.Answers.Project, component))
}

func sortedKV(m map[string]string) []KV {
	var out []KV
	for k, v := range m {
		out = append(out, KV{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Options are the Kubernetes answers, for the other writers of the
// Kubernetes files (monitoring, network policies, Helm values).
func (k *Kube) Options() KubeOptions { return k.KubeOptions }

// KubeMemory writes a memory size as Kubernetes reads it, in whole Mi.
func KubeMemory(b int64) string { return strconv.FormatInt(b/spec.MiB, 10) + "Mi" }

// KubeCPU writes cores as Kubernetes reads them, in millicores.
func KubeCPU(c float64) string { return strconv.FormatInt(int64(c*1000), 10) + "m" }

// Budget is service's memory limit as Kubernetes reads it.
func (d *Data) Budget(service string) string {
	for _, b := range d.Plan.Services {
		if b.Service == service {
			return KubeMemory(b.Memory)
		}
	}
	return "128Mi"
}

// MemberNodesList is the annotation's value.
func (k *Kube) MemberNodesList() string { return strings.Join(k.MemberNodes, ",") }

// kubeSecretFiles are the files of the Secrets kustomize generates, each
// one key: secretGenerator reads them (mode 0600), they are never printed.
var kubeSecretFiles = []struct{ secret, key, file string }{
	{KubeSecretMongo, "root-password", "secrets/mongodb-root-password"},
	{KubeSecretMongo, "rocketchat-password", "secrets/mongodb-rocketchat-password"},
	{KubeSecretMongo, "exporter-password", "secrets/mongodb-exporter-password"},
	{KubeSecretMongo, "keyfile", MongoKeyfile},
	{KubeSecretApp, "license", "secrets/rocketchat-license"},
	{KubeSecretApp, "smtp-password", "secrets/smtp-password"},
	{KubeGrafanaSecret, KubeGrafanaPasswordKey, "secrets/grafana-admin-password"},
	{KubeSecretBackup, "passphrase", "secrets/backup-passphrase"},
	{KubeSecretBackup, "rclone.conf", RcloneConfigFile},
	{KubeSecretDeployment, "rcgen.yaml", spec.FileName},
	{KubeSecretDeployment, ".env", EnvFile},
	{KubeSecretDeployment, "keyfile", MongoKeyfile},
}

// HelmMongoURIFile holds the MongoDB URL the official chart's values read
// from Secret HelmMongoSecret (existingMongodbSecret).
const HelmMongoURIFile = "secrets/helm-mongodb-uri"

// kubeWriterPaths are the files of the monitoring, NetworkPolicy and Helm
// writers (OwnedPaths: one left on disk after an answer changed is rcgen's).
var kubeWriterPaths = []string{
	KubeServiceMonitorsFile, KubePrometheusRuleFile, KubeDashboardsFile, KubePrometheusFile, KubeGrafanaFile,
	KubeNetworkPoliciesFile, HelmValuesPath, HelmMongoURIFile,
}

// kubeRender lays out the Kubernetes target's files: the secret files
// (the Swarm target's), the deployment's base files, the manifests, the
// other writers' files, then kustomization.yaml listing all of them.
func kubeRender(d *Data, s Secrets, out Files) (Files, error) {
	sec, err := swarmSecrets(d, s)
	if err != nil {
		return nil, err
	}
	out = append(out, sec...)
	out = append(out, kubeBaseFiles(d, s)...)
	o := d.Kube.Options()
	mon, err := KubeMonitoringFiles(d, o)
	if err != nil {
		return nil, err
	}
	out = append(out, mon...)
	np, err := KubeNetworkPolicyFiles(d, o)
	if err != nil {
		return nil, err
	}
	out = append(out, np...)
	helm, err := HelmValuesFile(d, o)
	if err != nil {
		return nil, err
	}
	if helm.Path != "" {
		out = append(out, helm)
		// What the values name: the MongoDB URL (with the app's password),
		// secret like every password, for the chart's existing-secret keys.
		out = append(out, File{Path: HelmMongoURIFile, Mode: 0o600, Secret: true,
			Content: []byte(KubeMongoURI(d, o, s.MongoRocketChatPassword))})
	}
	out = append(out,
		File{Path: KustomizationFile, Mode: 0o644, Content: kustomization(d, out)},
	)
	return out, nil
}

// kubeBaseFiles are baseFiles without the dashboards (Grafana's sidecar
// reads them from ConfigMaps the monitoring writer makes).
func kubeBaseFiles(d *Data, s Secrets) Files {
	var out Files
	for _, f := range baseFiles(d, s) {
		if !strings.HasPrefix(f.Path, "grafana/") {
			out = append(out, f)
		}
	}
	return out
}

// mongoInitJobName names the Job after the script and image it runs: a
// new replica set configuration (a member more) is a new Job, which runs.
func mongoInitJobName(script []byte, image string) string {
	h := sha256.New()
	h.Write(script)
	h.Write([]byte(image))
	return KubeMongoInit + "-" + hex.EncodeToString(h.Sum(nil))[:8]
}

// kustomization lays out kustomization.yaml: the namespace, every
// manifest under kubernetes/ (from the files, not a fixed list), the
// Secrets and ConfigMaps generated from the files beside them.
func kustomization(d *Data, files Files) []byte {
	var b bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# Generated by rcgen %s for Kubernetes. Re-run rcgen to change it (see\n", d.RcgenVersion)
	w("# README.md); hand edits are overwritten: layer your own changes in an\n")
	w("# overlay of your own that lists this directory as a resource.\n")
	if d.Kube.OpenShift {
		w("# Deploy: kubectl apply -k . (written for OpenShift's restricted-v2: --openshift)\n")
	} else {
		w("# Deploy: kubectl apply -k . (for OpenShift, re-run rcgen with --openshift)\n")
	}
	w("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")
	w("namespace: %s\n", d.Kube.Namespace)
	w("labels:\n  - pairs:\n      %s: %s\n      %s: %s\n    includeSelectors: false\n", KubeLabelPartOf, "rocketchat", KubeLabelManaged, "rcgen")
	w("resources:\n")
	for _, f := range files {
		if strings.HasPrefix(f.Path, KubeDir) && strings.HasSuffix(f.Path, ".yaml") {
			w("  - %s\n", f.Path)
		}
	}
	// Generated objects are named after their content (kustomize's
	// default, which rcgen keeps): a changed Secret or ConfigMap is a new
	// object, kustomize rewrites every reference to it, and the pods that
	// use it roll onto it; the old one stays for a rollback. A name that
	// never changed would leave running pods on the old content.
	// https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/secretgenerator/
	w("secretGenerator:\n")
	secrets := map[string][]string{}
	var order []string
	for _, sf := range kubeSecretFiles {
		if _, ok := files.Get(sf.file); !ok {
			continue
		}
		if sf.secret == KubeSecretDeployment && !d.Has(sizing.Backup) {
			continue
		}
		if sf.secret == KubeSecretBackup && sf.file == RcloneConfigFile && !d.Has(sizing.BackupOffsite) {
			continue
		}
		if sf.secret == KubeGrafanaSecret && d.Kube.Monitoring != KubeMonitoringBundled {
			continue // the cluster's Grafana has its own
		}
		if !slices.Contains(order, sf.secret) {
			order = append(order, sf.secret)
		}
		secrets[sf.secret] = append(secrets[sf.secret], sf.key+"="+sf.file)
	}
	for _, name := range order {
		w("  - name: %s\n    type: Opaque\n    files:\n", name)
		for _, f := range secrets[name] {
			w("      - %s\n", f)
		}
	}
	if d.TLSMode == spec.TLSOwn {
		w("  - name: %s\n    type: kubernetes.io/tls\n    files:\n      - tls.crt=%s\n      - tls.key=%s\n", KubeTLSSecret, TLSCertFile, TLSKeyFile)
	}
	// The Secrets the official chart's values name (helm/values.yaml):
	// Helm, not kustomize, refers to them, so their names stay as written.
	if _, ok := files.Get(HelmMongoURIFile); ok {
		fixed := "    options:\n      disableNameSuffixHash: true\n"
		w("  - name: %s\n    type: Opaque\n%s    files:\n      - %s=%s\n", HelmMongoSecret, fixed, HelmMongoSecretKey, HelmMongoURIFile)
		if d.Answers.Licensed() {
			w("  - name: %s\n    type: Opaque\n%s    files:\n      - %s=%s\n", HelmLicenseSecret, fixed, HelmLicenseSecretKey, "secrets/rocketchat-license")
		}
		if d.TLSMode == spec.TLSOwn {
			w("  - name: %s\n    type: kubernetes.io/tls\n%s    files:\n      - tls.crt=%s\n      - tls.key=%s\n", HelmTLSSecret, fixed, TLSCertFile, TLSKeyFile)
		}
	}
	w("configMapGenerator:\n")
	w("  - name: %s\n    files:\n      - init-replica-set.js=%s\n", KubeConfigMongoInit, MongoInitFile)
	if d.Has(sizing.Backup) {
		w("  - name: %s\n    files:\n      - backup.sh=%s\n      - counts.js=%s\n", KubeConfigBackup, BackupScript, BackupCounts)
	}
	return b.Bytes()
}

// MongoImage is the members' image.
func (d *Data) MongoImage() string { return catalog.MongoDBImageRepo + ":" + d.Mongo.Tag }

// kubeMap writes m as YAML mapping lines at indent, keys sorted.
func kubeMap(m map[string]string, indent int) string {
	var lines []string
	for _, kv := range sortedKV(m) {
		lines = append(lines, strings.Repeat(" ", indent)+kv.Key+": "+yamlString(kv.Value))
	}
	return strings.Join(lines, "\n")
}
