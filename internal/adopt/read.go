package adopt

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/Masterminds/semver/v3"
)

// DefaultFiles are the compose files docker compose reads in a directory
// when none is named (https://docs.docker.com/compose/intro/compose-application-model/#the-compose-file:
// compose.yaml, compose.yml, then the docker-compose.* names kept for
// backwards compatibility; the first found, with its override beside it).
var DefaultFiles = [][2]string{
	{"compose.yaml", "compose.override.yaml"},
	{"compose.yml", "compose.override.yml"},
	{"docker-compose.yaml", "docker-compose.override.yaml"},
	{"docker-compose.yml", "docker-compose.override.yml"},
}

// Paths inside the images the old layouts run.
const (
	// BitnamiDataDir is where bitnami/mongodb keeps its data (bitnami
	// containers' mongodb README: "persist your database ... mount a volume
	// at /bitnami/mongodb"), as UID 1001.
	BitnamiDataDir = "/bitnami/mongodb"
	// MongoDataDir is the official images' data directory (mongo and
	// mongodb-community-server: /data/db).
	MongoDataDir = "/data/db"
	// AppUploadsDir is the Rocket.Chat image's declared upload volume
	// (VOLUME /app/uploads in its Dockerfile).
	AppUploadsDir = "/app/uploads"
)

// Read loads the old compose deployment in dir from files (relative to
// dir; none: the defaults docker compose reads), with dir's .env, the way
// docker compose would. It asks Docker nothing: Probe does.
func Read(ctx context.Context, dir string, files []string) (Old, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Old{}, err
	}
	if len(files) == 0 {
		for _, d := range DefaultFiles {
			if _, err := os.Stat(filepath.Join(abs, d[0])); err == nil {
				files = []string{d[0]}
				if _, err := os.Stat(filepath.Join(abs, d[1])); err == nil {
					files = append(files, d[1])
				}
				break
			}
		}
		if len(files) == 0 {
			return Old{}, fmt.Errorf("--from: %s holds no compose file (compose.yaml, compose.yml, docker-compose.yml): give the directory you run docker compose in, or name the files with --file", dir)
		}
	}
	var paths []string
	for _, f := range files {
		p := f
		if !filepath.IsAbs(p) {
			p = filepath.Join(abs, f)
		}
		if _, err := os.Stat(p); err != nil {
			return Old{}, fmt.Errorf("--file %s: %w", f, err)
		}
		paths = append(paths, p)
	}
	opts, err := cli.NewProjectOptions(paths, cli.WithWorkingDirectory(abs), cli.WithEnvFiles(), cli.WithDotEnv)
	if err != nil {
		return Old{}, err
	}
	p, err := opts.LoadProject(ctx)
	if err != nil {
		hint := ""
		if _, serr := os.Stat(filepath.Join(abs, "compose.database.yml")); serr == nil && !slices.Contains(files, "compose.database.yml") {
			hint = "; the official layout (RocketChat/rocketchat-compose) starts with several files: name each with --file, as you give them to docker compose -f, e.g. --file compose.database.yml --file compose.traefik.yml --file compose.yml"
		}
		return Old{}, fmt.Errorf("reading %s the way docker compose does: %w%s", strings.Join(files, ", "), err, hint)
	}
	o := Old{Layout: LayoutCompose, Dir: abs, Files: files, Project: p.Name}
	if err := fromProject(&o, p); err != nil {
		return o, err
	}
	return o, nil
}

// appImage: the images Rocket.Chat publishes (registry.rocket.chat, Docker
// Hub's rocketchat/rocket.chat and the old library rocket.chat).
var appImage = regexp.MustCompile(`(^|/)rocket\.chat(:|$)`)

func isApp(image string) bool {
	repo, _ := splitImage(image)
	return appImage.MatchString(repo + ":")
}

// splitImage splits repo:tag (a registry port is not a tag).
func splitImage(image string) (repo, tag string) {
	image, _, _ = strings.Cut(image, "@")
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return image, "latest"
	}
	return image[:i], image[i+1:]
}

func fromProject(o *Old, p *types.Project) error {
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range p.Services {
			if !yield(n) {
				return
			}
		}
	})
	var apps []string
	for _, n := range names {
		if isApp(p.Services[n].Image) {
			apps = append(apps, n)
		}
	}
	if len(apps) == 0 {
		return fmt.Errorf("no service of %s runs Rocket.Chat's image (registry.rocket.chat/rocketchat/rocket.chat or rocketchat/rocket.chat): name the files that start it with --file", strings.Join(o.Files, ", "))
	}
	app := p.Services[apps[0]]
	if slices.Contains(apps, "rocketchat") {
		app = p.Services["rocketchat"]
	}
	o.App = app.Name
	o.Image, o.Tag = splitImage(app.Image)
	o.Network = p.Name + "_default"
	for n := range app.Networks {
		if nw, ok := p.Networks[n]; ok && nw.Name != "" {
			o.Network = nw.Name
		}
		break
	}
	env := map[string]string{}
	for k, v := range app.Environment {
		if v != nil {
			env[k] = *v
		}
	}
	appEnv(o, env)
	o.Stop = apps
	// The uploads' volume, if the app mounts one (FileSystem storage).
	for _, v := range app.Volumes {
		if v.Target == AppUploadsDir {
			o.Uploads.Path = v.Target
			if v.Type == types.VolumeTypeBind {
				o.Uploads.HostPath = v.Source
			} else if vol, ok := p.Volumes[v.Source]; ok {
				o.Uploads.Volume = vol.Name
			}
		}
	}
	// The proxy: the official compose.traefik.yml runs a traefik service
	// with Let's Encrypt's account email in its command
	// (RocketChat/rocketchat-compose compose.traefik.yml:
	// --certificatesresolvers.le.acme.email=${LETSENCRYPT_EMAIL},
	// --certificatesresolvers.le.acme.tlschallenge=${LETSENCRYPT_ENABLED}).
	o.Proxy = "none"
	for _, n := range names {
		s := p.Services[n]
		repo, _ := splitImage(s.Image)
		if repo != "traefik" && !strings.HasSuffix(repo, "/traefik") {
			continue
		}
		o.Proxy = "traefik"
		o.Stop = append(o.Stop, n)
		for _, a := range s.Command {
			k, v, ok := strings.Cut(a, "=")
			if !ok {
				continue
			}
			switch {
			case strings.HasSuffix(k, ".acme.email"):
				o.Email = v
			case strings.HasSuffix(k, ".acme.tlschallenge"), strings.HasSuffix(k, ".acme.httpchallenge"):
				o.LetsEncrypt = o.LetsEncrypt || v == "true"
			}
		}
	}
	if o.Proxy == "none" && app.Labels["traefik.enable"] == "true" {
		o.Proxy = "traefik-labels"
	}
	return mongoFromProject(o, p, names)
}

// appEnv reads what the app's environment says.
func appEnv(o *Old, env map[string]string) {
	if o.Tag != "" && o.Tag != "latest" {
		if v, err := semver.StrictNewVersion(o.Tag); err == nil {
			o.Version = v.String()
		}
	}
	o.RootURL = env["ROOT_URL"]
	if u, err := url.Parse(o.RootURL); err == nil {
		o.Domain = u.Hostname()
	}
	o.Port = env["PORT"]
	if o.Port == "" {
		o.Port = "3000"
	}
	o.License = env["ROCKETCHAT_LICENSE"] != "" || env["REG_TOKEN"] != ""
	// Rocket.Chat reads OVERWRITE_SETTING_<id> for any setting (the
	// official compose.yml sets OVERWRITE_SETTING_Prometheus_Enabled this
	// way); SMTP_Host and SMTP_Port are the settings' ids.
	if h := env["OVERWRITE_SETTING_SMTP_Host"]; h != "" {
		o.SMTP = h
		if port := env["OVERWRITE_SETTING_SMTP_Port"]; port != "" {
			o.SMTP += ":" + port
		}
	}
	o.Mongo.SetURL(env["MONGO_URL"])
}

// mongoURL is what a MONGO_URL says.
type mongoURL struct {
	hosts      []string
	user       bool
	db, rs     string
	authSource string
}

func parseMongoURL(s string) (mongoURL, error) {
	var m mongoURL
	rest, ok := strings.CutPrefix(s, "mongodb://")
	if !ok {
		if strings.HasPrefix(s, "mongodb+srv://") {
			return m, errors.New("a mongodb+srv:// URL (a hosted MongoDB)")
		}
		return m, errors.New("not a mongodb:// URL")
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		m.user = true
		rest = rest[at+1:]
	}
	hosts, path, _ := strings.Cut(rest, "/")
	path, query, _ := strings.Cut(path, "?")
	for _, h := range strings.Split(hosts, ",") {
		name, _, _ := strings.Cut(h, ":")
		if name != "" {
			m.hosts = append(m.hosts, name)
		}
	}
	if len(m.hosts) == 0 {
		return m, errors.New("it names no host")
	}
	m.db = path
	q, err := url.ParseQuery(query)
	if err != nil {
		return m, err
	}
	m.rs = q.Get("replicaSet")
	m.authSource = q.Get("authSource")
	return m, nil
}

func mongoFromProject(o *Old, p *types.Project, names []string) error {
	raw := o.Mongo.RealURL()
	if raw == "" {
		return fmt.Errorf("%s: the %s service sets no MONGO_URL: rcgen cannot tell which MongoDB holds the data", strings.Join(o.Files, ", "), o.App)
	}
	u, err := parseMongoURL(raw)
	if err != nil {
		return fmt.Errorf("%s: MONGO_URL %s: %v", o.App, o.Mongo.URL, err)
	}
	o.Mongo.Auth, o.Mongo.DB, o.Mongo.ReplicaSet = u.user, u.db, u.rs
	if o.Mongo.DB == "" {
		o.Mongo.DB = "test" // the driver's default database
	}
	host := u.hosts[0]
	var svc *types.ServiceConfig
	for _, n := range names {
		s := p.Services[n]
		if n == host || s.ContainerName == host || s.Hostname == host {
			svc = &s
			break
		}
		for _, nw := range s.Networks {
			if nw != nil && slices.Contains(nw.Aliases, host) {
				svc = &s
			}
		}
	}
	if svc == nil {
		if host != "localhost" && !strings.Contains(host, ".") {
			if _, err := os.Stat(filepath.Join(o.Dir, "compose.database.yml")); err == nil && !slices.Contains(o.Files, "compose.database.yml") {
				return fmt.Errorf("MONGO_URL names the host %s, which no service of %s is; the official layout keeps MongoDB in compose.database.yml beside it: name every file you start it with, e.g. --file compose.database.yml --file compose.traefik.yml --file compose.yml", host, strings.Join(o.Files, ", "))
			}
		}
		o.Mongo.External = true
		return nil
	}
	o.Mongo.Service = svc.Name
	o.Mongo.Image = svc.Image
	repo, tag := splitImage(svc.Image)
	o.Mongo.Bitnami = strings.HasSuffix(repo, "bitnami/mongodb")
	o.Mongo.Version = mongoSeriesOf(tag)
	for _, v := range svc.Volumes {
		if v.Target != MongoDataDir && v.Target != BitnamiDataDir {
			continue
		}
		if v.Type == types.VolumeTypeBind {
			o.Mongo.HostPath = v.Source
		} else if vol, ok := p.Volumes[v.Source]; ok {
			o.Mongo.Volume = vol.Name
		}
	}
	if o.Mongo.ReplicaSet == "" {
		o.Mongo.ReplicaSet = replSetOf(svc)
	}
	return nil
}

// mongoSeriesOf is the MongoDB feature version of an image tag ("8.2-ubi8",
// "6.0", "5.0.24-debian-11-r1"), "" when the tag does not say.
func mongoSeriesOf(tag string) string {
	m := regexp.MustCompile(`^([0-9]+)\.([0-9]+)`).FindStringSubmatch(tag)
	if m == nil {
		return ""
	}
	return m[1] + "." + m[2]
}

// replSetOf reads the replica set name from mongod's --replSet or
// Bitnami's MONGODB_REPLICA_SET_NAME.
func replSetOf(s *types.ServiceConfig) string {
	for i, a := range s.Command {
		if a == "--replSet" && i+1 < len(s.Command) {
			return s.Command[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--replSet="); ok {
			return v
		}
	}
	if v := s.Environment["MONGODB_REPLICA_SET_NAME"]; v != nil {
		return *v
	}
	return ""
}

// sortedKeys is m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
