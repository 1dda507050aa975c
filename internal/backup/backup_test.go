package backup

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func manifest() Manifest {
	return Manifest{Format: 1, Project: "rocketchat", DeploymentID: "aa", Created: time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC),
		RocketChatVersion: "8.8.1", MongoDBVersion: "8.0.32-ubi9", Counts: Counts{Collections: 90, Users: 12}}
}

func target() Target {
	return Target{Project: "rocketchat", DeploymentID: "aa", RocketChat: "8.9.1", MongoDB: "8.0.32-ubi9"}
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(*Manifest, *Target)
		other  bool
		plain  bool
		mode   Mode
		refuse string
		over   string
	}{
		{name: "its own backup, older release: whole, with the oplog", mode: Full},
		{name: "a newer Rocket.Chat", edit: func(m *Manifest, _ *Target) { m.RocketChatVersion = "9.0.0" }, refuse: "newer than the 8.9.1 this deployment runs"},
		{name: "a newer MongoDB", edit: func(m *Manifest, _ *Target) { m.MongoDBVersion = "8.2.12-ubi9" }, refuse: "from MongoDB 8.2, newer than the 8.0"},
		{name: "encrypted, no passphrase", edit: func(m *Manifest, _ *Target) { m.Encrypted = true }, refuse: "no BACKUP_PASSPHRASE"},
		{name: "encrypted, passphrase", edit: func(m *Manifest, tg *Target) { m.Encrypted, tg.Passphrase = true, true }, mode: Full},
		{name: "unencrypted where backups are encrypted", edit: func(_ *Manifest, tg *Target) { tg.Passphrase = true }, refuse: "carries no MAC", over: KeyUnencrypted},
		{name: "unencrypted where backups are encrypted, confirmed", edit: func(_ *Manifest, tg *Target) { tg.Passphrase = true }, plain: true, mode: Full},
		{name: "another deployment", edit: func(m *Manifest, _ *Target) { m.DeploymentID = "bb" }, refuse: "another deployment", over: KeyOtherDeployment},
		{name: "another project", edit: func(m *Manifest, _ *Target) { m.Project = "old" }, refuse: "another deployment", over: KeyOtherDeployment},
		{name: "another deployment, confirmed: its database only", edit: func(m *Manifest, _ *Target) { m.DeploymentID = "bb" }, other: true, mode: Database},
		{name: "no id recorded is never taken for this one", edit: func(m *Manifest, tg *Target) { m.DeploymentID, tg.DeploymentID = "", "" }, refuse: "another deployment", over: KeyOtherDeployment},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, tg := manifest(), target()
			if c.edit != nil {
				c.edit(&m, &tg)
			}
			mode, err := Check(m, tg, Confirmed{OtherDeployment: c.other, Unencrypted: c.plain})
			if c.refuse != "" {
				var r *RefusedError
				if !errors.As(err, &r) || !strings.Contains(err.Error(), c.refuse) || r.Override != c.over {
					t.Fatalf("err = %v (%+v), want a refusal with %q overridable by %q", err, r, c.refuse, c.over)
				}
				return
			}
			if err != nil || mode != c.mode {
				t.Fatalf("Check = %q, %v; want %q", mode, err, c.mode)
			}
		})
	}
}

func TestCheckCounts(t *testing.T) {
	m := manifest()
	if err := CheckCounts(m, m.Counts); err != nil {
		t.Error(err)
	}
	if err := CheckCounts(m, Counts{Collections: 90, Users: 11}); err == nil || !strings.Contains(err.Error(), "11 users") {
		t.Errorf("a lost user: %v", err)
	}
}
