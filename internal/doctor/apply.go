package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rcgen/rcgen/internal/deploy"
)

// Apply reports an apply into the deployment in dir that did not finish
// (its journal is there): one killed while it renamed the files left some
// new and others old. ok is false when dir is not a directory.
func Apply(dir string) (r Result, ok bool) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return r, false
	}
	r = Result{Name: "apply", Found: "no apply was interrupted"}
	in, err := deploy.Interrupted(dir)
	switch {
	case err != nil:
		r.Status, r.Found = Fail, fmt.Sprintf("an apply was interrupted, and its journal cannot be read: %v", err)
		r.Do = fmt.Sprintf("compare the files with their copies in %s by hand, then remove %s", filepath.Join(dir, deploy.BackupDir), filepath.Join(dir, deploy.JournalFile))
	case in == nil:
	case in.State == deploy.JournalRenaming:
		r.Status = Fail
		r.Found = fmt.Sprintf("an apply was interrupted while it replaced the files (a kill or a power cut): %s may be new or old, and the deployment is not one rcgen wrote", strings.Join(in.Files, ", "))
		r.Do = fmt.Sprintf("do not start or upgrade the stack as it is: re-run rcgen generate on %s, which finishes that apply first (or puts the old files back when it cannot) and says which", dir)
	default:
		r.Status = Warn
		r.Found = "an apply was interrupted before it replaced any file: its staged copies are left beside the files"
		r.Do = fmt.Sprintf("the next rcgen generate on %s removes them", dir)
	}
	return r, true
}
