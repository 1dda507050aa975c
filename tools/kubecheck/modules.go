package kubecheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
)

// A pinned module whose files (not Go packages) kubecheck reads: the
// OpenAPI documents and CRDs. They come from the Go module proxy through
// `go mod download`, which checks them against the checksum database; Sum
// pins the exact content beside the version.
type pinnedModule struct {
	Path, Version, Sum string
}

var (
	// Kubernetes' own OpenAPI v3 documents of the minor rcgen targets,
	// api/openapi-spec/v3/*.json in the release's source:
	// https://github.com/kubernetes/kubernetes/tree/v1.37.2/api/openapi-spec/v3
	kubernetesModule = pinnedModule{"k8s.io/kubernetes", "v1.37.2", "h1:A2VDEiObzkYqFTKhSsn0ZEb0RlLEXpHWj93gi2HqEwE="}
	// Gateway API's standard-channel CRDs, config/crd/standard:
	// https://github.com/kubernetes-sigs/gateway-api/tree/v1.6.3/config/crd/standard
	gatewayModule = pinnedModule{"sigs.k8s.io/gateway-api", "v1.6.3", "h1:lKpJa5bGlraC/QeACvCpsHLdmO6y0iKfzVl6gzaFEYc="}
	// cert-manager's CRDs, deploy/crds:
	// https://github.com/cert-manager/cert-manager/tree/v1.19.2/deploy/crds
	certManagerModule = pinnedModule{"github.com/cert-manager/cert-manager", "v1.19.2", "h1:jSprN1h5pgNDSl7HClAmIzXuTxic/5FXJ32kbQHqjlM="}
)

var (
	moduleMu   sync.Mutex
	moduleDirs = map[pinnedModule]string{}
)

// moduleDir is the directory of m in the module cache, downloaded if it is
// not there yet.
func moduleDir(m pinnedModule) (string, error) {
	moduleMu.Lock()
	defer moduleMu.Unlock()
	if d, ok := moduleDirs[m]; ok {
		return d, nil
	}
	cmd := exec.Command("go", "mod", "download", "-json", m.Path+"@"+m.Version)
	// Outside any module: the download must not touch a go.mod.
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Sum, Error string }
	if jerr := json.Unmarshal(out, &info); jerr != nil || info.Error != "" || err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %v %s %s", m.Path, m.Version, err, info.Error, stderr.String())
	}
	if info.Sum != m.Sum {
		return "", fmt.Errorf("go mod download %s@%s: checksum %s, want %s", m.Path, m.Version, info.Sum, m.Sum)
	}
	moduleDirs[m] = info.Dir
	return info.Dir, nil
}
