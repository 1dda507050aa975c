package smoke

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// checkAPIInfo: Rocket.Chat's /api/info answers, unauthenticated, with the
// version it runs. Its shape is API.v1.success(getServerInfo(userId)):
// {"version":"8.8","minimumClientVersions":{...},"success":true}; an
// anonymous caller gets the version without its patch level
// (removePatchInfo), a user allowed view-statistics the full one
// (apps/meteor/app/api/server/default/info.ts and
// apps/meteor/app/api/server/lib/getServerInfo.ts,
// https://github.com/RocketChat/Rocket.Chat).
func (s *site) checkAPIInfo(ctx context.Context) Result {
	url := s.appURL("/api/info")
	resp, body, err := s.get(ctx, s.client(), url)
	if err != nil {
		d, fix := s.netError(err, s.dial)
		return fail(CheckAPIInfo, "GET "+url+": "+d, fix)
	}
	if r, bad := s.badAnswer(CheckAPIInfo, url, resp, body, "rocketchat-1"); bad {
		return r
	}
	var info struct {
		Version *string `json:"version"`
		Success bool    `json:"success"`
	}
	if err := json.Unmarshal(body, &info); err != nil || info.Version == nil || !info.Success {
		return fail(CheckAPIInfo, fmt.Sprintf("%s answers %s, not Rocket.Chat's {\"version\":...,\"success\":true}.", url, excerpt(body)),
			"something other than Rocket.Chat answers behind the proxy: check the proxy's configuration and `docker compose ps`.")
	}
	got := *info.Version
	switch {
	case got == s.t.Version:
		return pass(CheckAPIInfo, fmt.Sprintf("Rocket.Chat %s answers.", got))
	case s.t.Version != "" && majorMinor(s.t.Version) == got:
		return pass(CheckAPIInfo, fmt.Sprintf("Rocket.Chat %s answers (it shows anonymous callers no patch level; %s is pinned).", got, s.t.Version))
	case s.t.Version == "":
		return pass(CheckAPIInfo, fmt.Sprintf("Rocket.Chat %s answers.", got))
	}
	return fail(CheckAPIInfo, fmt.Sprintf("Rocket.Chat reports version %s, but the deployment pins %s.", got, s.t.Version),
		"an older container still runs: `rcgen up` (or `docker compose up -d`) recreates it with the pinned image; if it persists, another Rocket.Chat answers for this domain.")
}

var versionRe = regexp.MustCompile(`^(\d+\.\d+)`)

// majorMinor is what Rocket.Chat's removePatchInfo keeps of a version.
func majorMinor(v string) string { return versionRe.FindString(v) }

// checkGrafana: Grafana answers under /grafana/ (Caddy strips the prefix).
// GET /api/health answers 200 with {"commit":...,"database":"ok",
// "version":...} (https://grafana.com/docs/grafana/latest/developers/http_api/other/#health-api),
// 503 when its database fails.
func (s *site) checkGrafana(ctx context.Context) Result {
	url := s.url("/grafana/api/health")
	resp, body, err := s.get(ctx, s.client(), url)
	if err != nil {
		d, fix := s.netError(err, s.dial)
		return fail(CheckGrafana, "GET "+url+": "+d, fix)
	}
	if r, bad := s.badAnswer(CheckGrafana, url, resp, body, "grafana"); bad {
		return r
	}
	var health struct {
		Database string `json:"database"`
		Version  string `json:"version"`
	}
	if err := json.Unmarshal(body, &health); err != nil || health.Database == "" {
		return fail(CheckGrafana, fmt.Sprintf("%s answers %s, not Grafana's health.", url, excerpt(body)),
			"something other than Grafana answers under /grafana/: check the proxy's configuration and `docker compose ps grafana`.")
	}
	if health.Database != "ok" {
		return fail(CheckGrafana, fmt.Sprintf("Grafana answers but its database is %q.", health.Database),
			"see `docker compose logs grafana` (its volume may be full or unwritable).")
	}
	v := ""
	if health.Version != "" {
		v = " " + health.Version
	}
	return pass(CheckGrafana, fmt.Sprintf("Grafana%s answers under %s.", v, s.url("/grafana/")))
}

// badAnswer reports an HTTP answer that is not a 200 with a JSON body, as
// what the user can do about it (service is the compose service behind).
func (s *site) badAnswer(name, url string, resp *http.Response, body []byte, service string) (Result, bool) {
	switch code := resp.StatusCode; {
	case code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		return fail(name, fmt.Sprintf("the proxy answers %s for %s: nothing healthy answers behind it.", resp.Status, url),
			fmt.Sprintf("check %s: `docker compose ps %s`, `docker compose logs %s`.", service, service, service)), true
	case code/100 == 3:
		return fail(name, fmt.Sprintf("%s redirects to %s instead of answering.", url, resp.Header.Get("Location")),
			"the proxy's configuration does not match the domain: re-run rcgen and `rcgen up`."), true
	case code != http.StatusOK:
		return fail(name, fmt.Sprintf("%s answers %s: %s.", url, resp.Status, excerpt(body)),
			fmt.Sprintf("see `docker compose logs %s`.", service)), true
	case !json.Valid(body):
		return fail(name, fmt.Sprintf("%s answers 200 with %s, which is not JSON.", url, excerpt(body)),
			fmt.Sprintf("something other than %s answers there: check the proxy's configuration and `docker compose ps`.", service)), true
	}
	return Result{}, false
}

// excerpt is the start of a body, quoted, for a one-line message.
func excerpt(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "an empty body"
	}
	const max = 80
	if len(b) > max {
		return fmt.Sprintf("%q...", b[:max])
	}
	return fmt.Sprintf("%q", b)
}

// checkPrometheus: every scrape target Prometheus knows is up. The JSON is
// GET /api/v1/targets: {"status":"success","data":{"activeTargets":[
// {"labels":{"job":...,"instance":...},"scrapeUrl":...,"lastError":...,
// "health":"up"|"down"|"unknown"},...],"droppedTargets":[...]}}
// (https://prometheus.io/docs/prometheus/latest/querying/api/#targets).
func (s *site) checkPrometheus(ctx context.Context) Result {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	body, err := s.t.PrometheusTargets(ctx)
	if err != nil && ctx.Err() != nil {
		return fail(CheckPrometheus, fmt.Sprintf("Prometheus's targets did not come within %s.", s.timeout),
			"check Prometheus: `docker compose ps prometheus`, `docker compose logs prometheus`.")
	}
	if err != nil {
		return fail(CheckPrometheus, fmt.Sprintf("Prometheus's targets could not be read: %v.", err),
			"check Prometheus: `docker compose ps prometheus`, `docker compose logs prometheus`.")
	}
	var targets struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   *struct {
			ActiveTargets []struct {
				Labels    map[string]string `json:"labels"`
				ScrapeURL string            `json:"scrapeUrl"`
				LastError string            `json:"lastError"`
				Health    string            `json:"health"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &targets); err != nil || targets.Status == "" {
		return fail(CheckPrometheus, fmt.Sprintf("Prometheus's /api/v1/targets answered %s, not its targets as JSON.", excerpt(body)),
			"check that it is Prometheus answering: `docker compose ps prometheus`, `docker compose logs prometheus`.")
	}
	if targets.Status != "success" || targets.Data == nil {
		return fail(CheckPrometheus, fmt.Sprintf("Prometheus's /api/v1/targets answered %s: %s.", targets.Status, targets.Error),
			"see `docker compose logs prometheus`.")
	}
	active := targets.Data.ActiveTargets
	if len(active) == 0 {
		return fail(CheckPrometheus, "Prometheus scrapes no target.",
			"its configuration did not load: see `docker compose logs prometheus`.")
	}
	var down []string
	for _, t := range active {
		if t.Health == "up" {
			continue
		}
		name := t.Labels["job"] + "/" + t.Labels["instance"]
		if t.Labels["instance"] == "" {
			name = t.ScrapeURL
		}
		why := t.LastError
		if why == "" && t.Health == "unknown" {
			why = "not scraped yet"
		}
		down = append(down, fmt.Sprintf("%s is %s (%s)", name, t.Health, strings.TrimRight(why, ".")))
	}
	if len(down) > 0 {
		slices.Sort(down)
		return fail(CheckPrometheus, fmt.Sprintf("%d of %d targets are not up: %s.", len(down), len(active), strings.Join(down, "; ")),
			"a target down is a service not running or not answering on its metrics port: `docker compose ps`, then `docker compose logs SERVICE` for each (the instance names it); a target not scraped yet is up within a scrape interval.")
	}
	return pass(CheckPrometheus, fmt.Sprintf("all %d targets are up.", len(active)))
}
