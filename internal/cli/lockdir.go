package cli

import (
	"fmt"

	"github.com/rcgen/rcgen/internal/deploy"
)

// lockDeployment takes the lock of the deployment in dir for one run (the
// deployment's own, never its parent's), then finishes an apply a killed
// run left half done, or undoes it, and says which: whatever the run does
// next reads a deployment that is whole.
func lockDeployment(env Env, dir string) (unlock func(), err error) {
	unlock, err = deploy.Lock(dir)
	if err != nil {
		return nil, err
	}
	rec, err := deploy.Recover(dir)
	if err != nil {
		unlock()
		return nil, err
	}
	if msg := rec.String(); msg != "" {
		fmt.Fprintln(env.IO.ErrOut, "Warning:", msg)
	}
	return unlock, nil
}
