package render

import (
	"context"

	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// Inputs returns the sizing inputs the answers give.
func Inputs(a spec.Answers) sizing.Inputs {
	return sizing.Inputs{
		Licensed: a.Licensed(), Processes: a.Processes, Users: a.Users, MongoDBMembers: a.MongoDBMembers,
		Monitoring: a.Monitoring, Proxy: a.Proxy == spec.ProxyCaddy, Alerting: a.Monitoring && a.Alerting(),
	}
}

// Generate renders a deployment in memory and checks it. It returns the
// files only when every check passed; nothing touches the disk.
func Generate(ctx context.Context, a spec.Answers, p sizing.Plan, s Secrets, rcgenVersion string) (Files, error) {
	d, err := Derive(a, p, rcgenVersion)
	if err != nil {
		return nil, err
	}
	files, err := Render(d, s)
	if err != nil {
		return nil, err
	}
	if err := Check(ctx, files); err != nil {
		return nil, err
	}
	return files, nil
}
