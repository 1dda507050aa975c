package adopt

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadLayouts(t *testing.T) {
	abs := func(dir string) string { a, _ := filepath.Abs(filepath.Join("testdata", dir)); return a }
	tests := []struct {
		dir   string
		files []string
		check func(t *testing.T, o Old)
	}{
		{"official", []string{"compose.database.yml", "compose.traefik.yml", "compose.yml"}, func(t *testing.T, o Old) {
			want := Old{Project: "official", App: "rocketchat", Version: "8.0.1", Domain: "chat.example.com", RootURL: "https://chat.example.com", Proxy: "traefik", Email: "admin@example.com", LetsEncrypt: true}
			if o.Project != want.Project || o.App != want.App || o.Version != want.Version || o.Domain != want.Domain || o.Proxy != want.Proxy || o.Email != want.Email || !o.LetsEncrypt {
				t.Errorf("got %+v", o)
			}
			m := o.Mongo
			if m.Service != "mongodb" || m.Version != "8.2" || m.Bitnami || m.Auth || m.ReplicaSet != "rs0" || m.DB != "rocketchat" || m.Volume != "official_mongodb_data" || m.External {
				t.Errorf("mongo %+v", m)
			}
			if strings.Join(o.Stop, ",") != "rocketchat,traefik" {
				t.Errorf("stops %v", o.Stop)
			}
		}},
		{"official-notraefik", []string{"compose.database.yml", "compose.yml"}, func(t *testing.T, o Old) {
			if o.Version != "" || o.Tag != "latest" || o.Proxy != "none" || o.Domain != "localhost" || strings.Join(o.Stop, ",") != "rocketchat" {
				t.Errorf("got %+v", o)
			}
		}},
		{"bitnami", nil, func(t *testing.T, o Old) {
			m := o.Mongo
			if o.Version != "7.10.5" || !m.Bitnami || m.Version != "6.0" || m.Volume != "bitnami_mongodb_data" || m.ReplicaSet != "rs0" || m.DB != "rocketchat" || m.Auth {
				t.Errorf("got %+v", o)
			}
			if o.Files[0] != "docker-compose.yml" {
				t.Errorf("files %v", o.Files)
			}
		}},
		{"external", nil, func(t *testing.T, o Old) {
			m := o.Mongo
			if !m.External || !m.Auth || m.DB != "chat" || m.ReplicaSet != "prod" || m.Service != "" {
				t.Errorf("mongo %+v", m)
			}
			if strings.Contains(m.URL, "s3cret") || !strings.Contains(m.RealURL(), "s3cret") {
				t.Errorf("the masked URL shows the password, or the real one lost it: %s", m.URL)
			}
			if o.SMTP != "smtp.example.com:587" {
				t.Errorf("smtp %q", o.SMTP)
			}
		}},
		{"filesystem", nil, func(t *testing.T, o Old) {
			if o.Uploads.HostPath != filepath.Join(abs("filesystem"), "uploads") || o.Uploads.Path != AppUploadsDir {
				t.Errorf("uploads %+v", o.Uploads)
			}
			if o.Mongo.HostPath != "/srv/mongodb" || !o.Mongo.Bitnami || o.Mongo.Version != "5.0" {
				t.Errorf("mongo %+v", o.Mongo)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			o, err := Read(context.Background(), filepath.Join("testdata", tt.dir), tt.files)
			if err != nil {
				t.Fatal(err)
			}
			if o.Dir != abs(tt.dir) {
				t.Errorf("dir %s", o.Dir)
			}
			tt.check(t, o)
		})
	}
}

// The official layout read from compose.yml alone: the error says to name
// every file.
func TestReadOfficialNeedsEveryFile(t *testing.T) {
	_, err := Read(context.Background(), "testdata/official", []string{"compose.yml"})
	if err == nil || !strings.Contains(err.Error(), "--file compose.database.yml") {
		t.Fatalf("got %v", err)
	}
	_, err = Read(context.Background(), "testdata/official", []string{"nope.yml"})
	if err == nil || !strings.HasPrefix(err.Error(), "--file nope.yml") {
		t.Fatalf("got %v", err)
	}
	_, err = Read(context.Background(), "testdata/inspect", nil)
	if err == nil || !strings.Contains(err.Error(), "holds no compose file") {
		t.Fatalf("got %v", err)
	}
}

func TestInspectDockerRun(t *testing.T) {
	var calls []string
	run := func(_ context.Context, _ string, args ...string) ([]byte, error) {
		calls = append(calls, strings.Join(args, " "))
		name := args[len(args)-1]
		b, err := os.ReadFile(filepath.Join("testdata", "inspect", name+".json"))
		if err != nil {
			return nil, &os.PathError{Op: "inspect", Path: name, Err: os.ErrNotExist}
		}
		return b, nil
	}
	o, err := Inspect(context.Background(), run, "rocketchat")
	if err != nil {
		t.Fatal(err)
	}
	if o.Layout != LayoutContainer || o.Version != "8.5.3" || o.Domain != "chat.example.org" || o.Network != "rcnet" || o.Uploads.Volume != "rc_uploads" {
		t.Errorf("got %+v", o)
	}
	if m := o.Mongo; m.Service != "mongo" || m.Volume != "rc_mongo" || m.Version != "7.0" || m.ReplicaSet != "rs0" || m.External {
		t.Errorf("mongo %+v", m)
	}
	if strings.Join(calls, "; ") != "inspect --type container rocketchat; inspect --type container mongo" {
		t.Errorf("calls %q", calls)
	}
	if got := strings.Join(o.Exec(o.Mongo.Service, "mongosh"), " "); got != "exec mongo mongosh" {
		t.Errorf("exec %q", got)
	}
}
