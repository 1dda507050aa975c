package adopt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rcgen/rcgen/internal/catalog"
)

// ToolsImage runs mongodump, mongorestore, mongosh and the copies: the
// image rcgen's backup service pins (catalog.BackupImage: the MongoDB 8.0
// Docker Official Image, with mongodb-org-tools).
const ToolsImage = catalog.BackupImage

// composeArgs is the docker compose prefix that names the old project
// exactly as it was started.
func (o Old) composeArgs() []string {
	args := []string{"compose", "-p", o.Project, "--project-directory", o.Dir}
	for _, f := range o.Files {
		if !filepath.IsAbs(f) {
			f = filepath.Join(o.Dir, f)
		}
		args = append(args, "-f", f)
	}
	return args
}

// Exec is the docker command that runs argv in the old service's
// container.
func (o Old) Exec(service string, argv ...string) []string {
	if o.Layout == LayoutContainer {
		return append([]string{"exec", service}, argv...)
	}
	return append(append(o.composeArgs(), "exec", "-T", service), argv...)
}

// mongoArgs runs a MongoDB tool against the old MongoDB: inside its own
// container when rcgen knows it, else from a one-shot tools container on
// the host's network (an external MongoDB this host reaches).
func (o Old) mongoArgs(argv ...string) []string {
	if o.Mongo.External {
		return append([]string{"run", "--rm", "--network", "host", ToolsImage}, argv...)
	}
	return o.Exec(o.Mongo.Service, argv...)
}

// infoJS prints Rocket.Chat's /api/info from inside its container
// (Node 18 and later have fetch; /api/info answers {"version": ...}
// without a login: RocketChat/Rocket.Chat apps/meteor/app/api/server/v1/misc.ts).
const infoJS = `fetch("http://127.0.0.1:"+(process.env.PORT||3000)+"/api/info").then(r=>r.json()).then(j=>console.log(JSON.stringify({version:j.version||""}))).catch(e=>{console.error(String(e));process.exit(1)})`

// settingsJS reads where uploads live (rocketchat_settings'
// FileUpload_Storage_Type and FileUpload_FileSystemPath, the settings
// Rocket.Chat's Admin > File Upload page writes: apps/meteor/server/settings/file-upload.ts)
// and dbStats' sizes, as one JSON line.
const settingsJS = `const g=id=>{const s=db.getCollection("rocketchat_settings").findOne({_id:id});return s?s.value:null};` +
	`const st=db.stats();print(JSON.stringify({storage:g("FileUpload_Storage_Type"),path:g("FileUpload_FileSystemPath"),dataSize:st.dataSize,storageSize:st.storageSize,indexSize:st.indexSize}))`

// Probe asks the running old stack what its files cannot say: the release
// behind a "latest" tag, where uploads live, and the sizes. What it cannot
// read stays unset for the plan to refuse or for a flag to give.
func Probe(ctx context.Context, run Runner, o *Old) []error {
	var errs []error
	if o.Version == "" {
		out, err := run(ctx, o.Dir, o.Exec(o.App, "node", "-e", infoJS)...)
		var info struct{ Version string }
		if err == nil {
			err = json.Unmarshal(lastLine(out), &info)
		}
		if err != nil || info.Version == "" {
			errs = append(errs, fmt.Errorf("the image tag %q does not say which Rocket.Chat runs, and /api/info did not answer (%v): give --from-version", o.Tag, err))
		} else {
			o.Version = info.Version
		}
	}
	out, err := run(ctx, o.Dir, o.mongoArgs("mongosh", o.Mongo.RealURL(), "--quiet", "--eval", settingsJS)...)
	var st struct {
		Storage     *string `json:"storage"`
		Path        *string `json:"path"`
		DataSize    float64 `json:"dataSize"`
		StorageSize float64 `json:"storageSize"`
		IndexSize   float64 `json:"indexSize"`
	}
	if err == nil {
		err = json.Unmarshal(lastLine(out), &st)
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("reading the uploads setting and database size from the old MongoDB: %v: start it (only MongoDB: docker compose up -d %s) and run this again", err, o.Mongo.Service))
		return errs
	}
	o.Sizes.DataSize = int64(st.DataSize)
	o.Sizes.StorageSize = int64(st.StorageSize + st.IndexSize)
	if o.Uploads.Storage == "" {
		o.Uploads.Storage = "GridFS" // the setting's default when never saved
		if st.Storage != nil {
			o.Uploads.Storage = *st.Storage
		}
	}
	if o.Uploads.Storage == "FileSystem" {
		if st.Path != nil && *st.Path != "" {
			if *st.Path != o.Uploads.Path {
				o.Uploads.Path, o.Uploads.Volume, o.Uploads.HostPath = *st.Path, "", ""
			}
		} else if o.Uploads.Path == "" {
			o.Uploads.Path = AppUploadsDir
		}
		if src := o.uploadsSource(); src != "" {
			out, err := run(ctx, o.Dir, "run", "--rm", "-v", src+":/from:ro", ToolsImage, "du", "-sb", "/from")
			if err == nil {
				f := strings.Fields(string(lastLine(out)))
				if len(f) > 0 {
					o.Sizes.Uploads, err = strconv.ParseInt(f[0], 10, 64)
				}
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("measuring the uploads in %s: %v", src, err))
			}
		}
	}
	return errs
}

// uploadsSource is the volume or host directory holding FileSystem
// uploads, "" when none.
func (o Old) uploadsSource() string {
	if o.Uploads.Volume != "" {
		return o.Uploads.Volume
	}
	return o.Uploads.HostPath
}

func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}
