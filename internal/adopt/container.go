package adopt

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// container is the part of `docker inspect` rcgen reads
// (https://docs.docker.com/reference/api/engine/version/v1.47/#tag/Container/operation/ContainerInspect:
// Name, Config.Image, Config.Env, Mounts[].Type/Name/Source/Destination,
// NetworkSettings.Networks).
type container struct {
	Name   string `json:"Name"`
	Config struct {
		Image string   `json:"Image"`
		Env   []string `json:"Env"`
		Cmd   []string `json:"Cmd"`
	} `json:"Config"`
	Mounts []struct {
		Type        string `json:"Type"`
		Name        string `json:"Name"`
		Source      string `json:"Source"`
		Destination string `json:"Destination"`
	} `json:"Mounts"`
	NetworkSettings struct {
		Networks map[string]json.RawMessage `json:"Networks"`
	} `json:"NetworkSettings"`
}

func inspect(ctx context.Context, run Runner, name string) (container, error) {
	out, err := run(ctx, "", "inspect", "--type", "container", name)
	if err != nil {
		return container{}, err
	}
	var cs []container
	if err := json.Unmarshal(out, &cs); err != nil {
		return container{}, fmt.Errorf("reading docker inspect %s: %w", name, err)
	}
	if len(cs) != 1 {
		return container{}, fmt.Errorf("docker inspect %s: %d containers", name, len(cs))
	}
	return cs[0], nil
}

// Inspect reads a Rocket.Chat started with docker run (the app container
// name), and the MongoDB container MONGO_URL names, with docker inspect.
func Inspect(ctx context.Context, run Runner, name string) (Old, error) {
	c, err := inspect(ctx, run, name)
	if err != nil {
		return Old{}, fmt.Errorf("--from-container %s: %w", name, err)
	}
	if !isApp(c.Config.Image) {
		return Old{}, fmt.Errorf("--from-container %s: it runs %s, not Rocket.Chat's image", name, c.Config.Image)
	}
	o := Old{Layout: LayoutContainer, Project: strings.TrimPrefix(c.Name, "/"), App: strings.TrimPrefix(c.Name, "/"), Stop: []string{strings.TrimPrefix(c.Name, "/")}, Proxy: "none"}
	o.Image, o.Tag = splitImage(c.Config.Image)
	o.Network = firstNetwork(c)
	appEnv(&o, envMap(c.Config.Env))
	for _, m := range c.Mounts {
		if m.Destination == AppUploadsDir {
			o.Uploads.Path = m.Destination
			if m.Type == "bind" {
				o.Uploads.HostPath = m.Source
			} else {
				o.Uploads.Volume = m.Name
			}
		}
	}
	raw := o.Mongo.RealURL()
	if raw == "" {
		return o, fmt.Errorf("--from-container %s: it sets no MONGO_URL: rcgen cannot tell which MongoDB holds the data", name)
	}
	u, err := parseMongoURL(raw)
	if err != nil {
		return o, fmt.Errorf("--from-container %s: MONGO_URL %s: %v", name, o.Mongo.URL, err)
	}
	o.Mongo.Auth, o.Mongo.DB, o.Mongo.ReplicaSet = u.user, u.db, u.rs
	if o.Mongo.DB == "" {
		o.Mongo.DB = "test"
	}
	mc, err := inspect(ctx, run, u.hosts[0])
	if err != nil {
		// No container of that name: a MongoDB elsewhere.
		o.Mongo.External = true
		return o, nil
	}
	o.Mongo.Service = strings.TrimPrefix(mc.Name, "/")
	o.Mongo.Image = mc.Config.Image
	repo, tag := splitImage(mc.Config.Image)
	o.Mongo.Bitnami = strings.HasSuffix(repo, "bitnami/mongodb")
	o.Mongo.Version = mongoSeriesOf(tag)
	for _, m := range mc.Mounts {
		if m.Destination != MongoDataDir && m.Destination != BitnamiDataDir {
			continue
		}
		if m.Type == "bind" {
			o.Mongo.HostPath = m.Source
		} else {
			o.Mongo.Volume = m.Name
		}
	}
	if o.Mongo.ReplicaSet == "" {
		for i, a := range mc.Config.Cmd {
			if a == "--replSet" && i+1 < len(mc.Config.Cmd) {
				o.Mongo.ReplicaSet = mc.Config.Cmd[i+1]
			}
		}
	}
	return o, nil
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func firstNetwork(c container) string {
	names := sortedKeys(c.NetworkSettings.Networks)
	if i := slices.Index(names, "bridge"); i >= 0 && len(names) > 1 {
		names = slices.Delete(names, i, i+1)
	}
	if len(names) == 0 {
		return "bridge"
	}
	return names[0]
}
