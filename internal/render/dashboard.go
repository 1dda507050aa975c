package render

import "encoding/json"

// The Grafana dashboard is built in Go rather than templated, so it is
// always valid JSON and every query sits in one readable list.

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type target struct {
	Datasource   dsRef  `json:"datasource"`
	Expr         string `json:"expr"`
	LegendFormat string `json:"legendFormat"`
	RefID        string `json:"refId"`
}

type gridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

type panel struct {
	ID          int            `json:"id"`
	Type        string         `json:"type"`
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	Datasource  dsRef          `json:"datasource"`
	GridPos     gridPos        `json:"gridPos"`
	Targets     []target       `json:"targets"`
	FieldConfig map[string]any `json:"fieldConfig"`
	Options     map[string]any `json:"options,omitempty"`
}

type panelSpec struct {
	title, kind, unit, desc string
	queries                 [][2]string // expr, legend
}

// replicaSetOnly are the panels that mean something only for a set of
// several members.
var replicaSetOnly = map[string]bool{"Replica set members healthy": true, "Replication lag": true}

// backupOnly are the panels of the backup service's metrics.
var backupOnly = map[string]bool{"Newest backup age": true, "Newest backup size": true}

// dashboard is one Grafana dashboard rcgen provisions.
type dashboard struct {
	file, uid, title string
	// instanceVar adds the per-process variable built from the instance label.
	instanceVar bool
	panels      []panelSpec
}

// dashboards lists rcgen's dashboards. Metric names are the ones Rocket.Chat
// (prom-client, refreshed every 5s), Percona's MongoDB exporter (its
// diagnosticdata collector with --compatible-mode, one exporter per member:
// instance mongodb-N) and node exporter expose. Panels marked replicaSet
// show only for a set of several members (on one they stay empty forever).
var dashboards = []dashboard{
	{"grafana/dashboards/rocketchat.json", "rcgen-rocketchat", "Rocket.Chat overview", true, []panelSpec{
		// Rocket.Chat counts connected users per process only:
		// rocketchat_ddp_connected_users is the number of distinct user IDs
		// among that process's signed-in DDP sessions
		// (app/metrics/server/lib/collectMetrics.ts), and no metric counts
		// them across processes live. A user connected to two processes (a
		// phone and a browser) is in both counts, so the workspace's number
		// lies between the largest process's count and the sum; with one
		// process both are exact.
		{"Users connected", "stat", "short", "Distinct signed-in users with a live connection. Rocket.Chat counts them per process, and a user connected to two processes (a phone and a browser) is in both counts: the number is at least the largest process's count and at most their sum (the same with one process).",
			[][2]string{
				{`max(rocketchat_ddp_connected_users{job="rocketchat"})`, "at least"},
				{`sum(rocketchat_ddp_connected_users{job="rocketchat"})`, "at most"},
			}},
		// rocketchat_users_online is the statistics snapshot's onlineUsers
		// (users whose status is online, counted in the database), which
		// every process reports alike (Statistics.findLast): max, never sum.
		// It is generated at start and once a day (server/cron/usageReport.ts).
		{"Users online (daily statistics)", "stat", "short", "Users whose status was online when Rocket.Chat last generated its statistics (at start and once a day): each user counted once, but not live.",
			[][2]string{{`max(rocketchat_users_online{job="rocketchat"})`, "online"}}},
		{"Signed-in sessions", "stat", "short", "Live real-time sessions that are signed in.",
			[][2]string{{`sum(rocketchat_ddp_sessions_auth{job="rocketchat"})`, "signed in"}}},
		{"App processes up", "stat", "short", "App processes Prometheus can scrape.",
			[][2]string{{`sum(up{job="rocketchat"})`, "up"}}},
		{"MongoDB members up", "stat", "short", "Members answering their exporter.",
			[][2]string{{`sum(mongodb_up{job="mongodb"})`, "up"}}},
		{"Messages sent per minute", "timeseries", "short", "",
			[][2]string{{`sum(rate(rocketchat_message_sent{job="rocketchat"}[5m])) * 60`, "messages/min"}}},
		{"DDP sessions per process", "timeseries", "short", "Real-time (WebSocket) sessions on each process.",
			[][2]string{{`rocketchat_ddp_sessions_count{job="rocketchat", instance=~"$instance"}`, "{{instance}}"}}},
		{"REST API requests per second", "timeseries", "reqps", "",
			[][2]string{{`sum by (instance) (rate(rocketchat_rest_api_count{job="rocketchat", instance=~"$instance"}[5m]))`, "{{instance}}"}}},
		{"REST API errors per second", "timeseries", "reqps", "Responses with a 5xx status.",
			[][2]string{{`sum by (instance) (rate(rocketchat_rest_api_count{job="rocketchat", instance=~"$instance", status=~"5.."}[5m]))`, "{{instance}}"}}},
		{"Event-loop lag", "timeseries", "s", "Above 0.1s users notice delays: the process is CPU bound.",
			[][2]string{{`nodejs_eventloop_lag_seconds{job="rocketchat", instance=~"$instance"}`, "{{instance}}"}}},
		{"Heap used", "timeseries", "bytes", "Compare with the heap limit in the deployment README (an alert fires at 90%).",
			[][2]string{{`nodejs_heap_size_used_bytes{job="rocketchat", instance=~"$instance"}`, "{{instance}}"}}},
		{"Resident memory", "timeseries", "bytes", "",
			[][2]string{{`process_resident_memory_bytes{job="rocketchat", instance=~"$instance"}`, "{{instance}}"}}},
		{"CPU per process", "timeseries", "percentunit", "One process can use about one core.",
			[][2]string{{`rate(process_cpu_seconds_total{job="rocketchat", instance=~"$instance"}[5m])`, "{{instance}}"}}},
	}},
	{"grafana/dashboards/mongodb.json", "rcgen-mongodb", "MongoDB", false, []panelSpec{
		{"Members up", "stat", "short", "Members answering their exporter.", [][2]string{{`sum(mongodb_up{job="mongodb"})`, "up"}}},
		{"Replica set members healthy", "stat", "short", "Members some member sees healthy.",
			[][2]string{{`count(max by (member_idx) (mongodb_rs_members_health{job="mongodb"}) == 1)`, "healthy"}}},
		{"Connections", "timeseries", "short", "", [][2]string{{`mongodb_ss_connections{job="mongodb", conn_type="current"}`, "{{instance}}"}}},
		{"Operations per second", "timeseries", "ops", "",
			[][2]string{{`sum by (instance, legacy_op_type) (rate(mongodb_ss_opcounters{job="mongodb"}[5m]))`, "{{instance}} {{legacy_op_type}}"}}},
		{"WiredTiger cache", "timeseries", "bytes", "The cache rcgen sized from the container limit, and what it holds.",
			[][2]string{
				{`mongodb_ss_wt_cache_bytes_currently_in_the_cache{job="mongodb"}`, "{{instance}} in cache"},
				{`mongodb_ss_wt_cache_maximum_bytes_configured{job="mongodb"}`, "{{instance}} configured"},
			}},
		{"Replication lag", "timeseries", "s", "Seconds each secondary is behind the primary.",
			[][2]string{{`max by (name) (mongodb_mongod_replset_member_replication_lag{job="mongodb", state="SECONDARY"})`, "{{name}}"}}},
	}},
	{"grafana/dashboards/host.json", "rcgen-host", "Host", false, []panelSpec{
		{"CPU busy", "timeseries", "percentunit", "",
			[][2]string{{`1 - avg(rate(node_cpu_seconds_total{job="node", mode="idle"}[5m]))`, "busy"}}},
		{"Load", "timeseries", "short", "", [][2]string{{`node_load1{job="node"}`, "1m"}, {`node_load15{job="node"}`, "15m"}}},
		{"Memory available", "timeseries", "bytes", "",
			[][2]string{{`node_memory_MemAvailable_bytes{job="node"}`, "available"}, {`node_memory_MemTotal_bytes{job="node"}`, "total"}}},
		{"Disk free", "timeseries", "percentunit", "An alert fires below 10%.",
			[][2]string{{`node_filesystem_avail_bytes{job="node", fstype!~"tmpfs|overlay|squashfs|ramfs"} / node_filesystem_size_bytes{job="node", fstype!~"tmpfs|overlay|squashfs|ramfs"}`, "{{mountpoint}}"}}},
		// Written by the backup service, read by node exporter's textfile collector.
		{"Newest backup age", "stat", "s", "Time since the newest backup in backups/ was written; an alert fires when the schedule is missed.",
			[][2]string{{`time() - rcgen_backup_last_success_timestamp_seconds{job="node"}`, "age"}}},
		{"Newest backup size", "stat", "bytes", "Size of the newest backup file (compressed dump and files).",
			[][2]string{{`rcgen_backup_last_size_bytes{job="node"}`, "size"}}},
	}},
}

// logsDashboard is the dashboard of the logs (logs: true). Its "logs"
// panels query Loki in LogQL: service_name is the label the collector
// gives each line (the Compose service, or the Swarm service), the rest is
// structured metadata (severity_number from OTLP; Rocket.Chat's name,
// mongod's c), https://grafana.com/docs/loki/v3.7.x/send-data/otel/. The
// counts come from Prometheus: the collector counts the lines as it reads
// them (otelcol/config.yaml), the same counters the alerts read.
// logsDashboardUID and logsDashboardTag: the logs dashboard, and the tag
// the other dashboards' links find it by.
const (
	logsDashboardUID = "rcgen-logs"
	logsDashboardTag = "rcgen-logs"
)

var logsDashboard = dashboard{"grafana/dashboards/logs.json", logsDashboardUID, "Logs", false, []panelSpec{
	{"Errors per process", "timeseries", "short", "Lines at error or fatal severity each service logged, per 5 minutes; an alert fires past 20 in 10 minutes.",
		[][2]string{{`sum by (service_name) (increase(rcgen_log_errors_total{job="otelcol"}[5m]))`, "{{service_name}}"}}},
	{"MongoDB elections and slow queries", "timeseries", "short", "Elections a member won (the primary changed) and operations mongod logged as slow, per hour.",
		[][2]string{
			{`sum by (service_name) (increase(rcgen_mongodb_elections_total{job="otelcol"}[1h]))`, "elections {{service_name}}"},
			{`sum by (service_name) (increase(rcgen_mongodb_slow_queries_total{job="otelcol"}[1h]))`, "slow queries {{service_name}}"},
		}},
	{"Last errors", "logs", "", "The newest error and fatal lines of every service.",
		[][2]string{{`{service_name=~".+"} | severity_number >= 17`, ""}}},
	{"Migrations", "logs", "", "Rocket.Chat's database migrations (its Migrations logger, and the box it prints when one fails).",
		[][2]string{{`{service_name=~"rocketchat.*"} |~ "(?i)migrat"`, ""}}},
	{"MongoDB elections", "logs", "", "What the members logged about elections: who stepped down, who won, and why.",
		[][2]string{{`{service_name=~"mongodb-.*"} | c="ELECTION"`, ""}}},
	{"MongoDB slow queries", "logs", "", "Operations mongod logged as slow (id 51803), with their plan and duration in attr.",
		[][2]string{{`{service_name=~"mongodb-.*"} | id="51803"`, ""}}},
}}

// LogsDashboard returns the dashboard of the logs as a generated file.
func LogsDashboard() (File, error) {
	b, err := logsDashboard.json()
	if err != nil {
		return File{}, err
	}
	return File{Path: logsDashboard.file, Mode: 0o644, Content: b}, nil
}

// Dashboards returns every dashboard as a generated file, for a replica
// set of members, with the backup panels when the backup service runs.
func Dashboards(members int, backup bool) (Files, error) {
	var out Files
	for _, d := range dashboards {
		var keep []panelSpec
		for _, p := range d.panels {
			if members < 2 && replicaSetOnly[p.title] || !backup && backupOnly[p.title] {
				continue
			}
			keep = append(keep, p)
		}
		d.panels = keep
		b, err := d.json()
		if err != nil {
			return nil, err
		}
		out = append(out, File{Path: d.file, Mode: 0o644, Content: b})
	}
	return out, nil
}

func (d dashboard) json() ([]byte, error) {
	ds := dsRef{Type: "prometheus", UID: DatasourceUID}
	var panels []panel
	x, y := 0, 0
	for i, p := range d.panels {
		w, h := 12, 8
		if p.kind == "stat" {
			w, h = 6, 4
		}
		if p.kind == "logs" {
			w = 24
		}
		if x+w > 24 {
			x = 0
			y += 8
		}
		pds := ds
		if p.kind == "logs" {
			// Logs panels read Loki, full width.
			pds, w, h = dsRef{Type: "loki", UID: LokiDatasourceUID}, 24, 10
			if x > 0 {
				x = 0
				y += 8
			}
		}
		pn := panel{
			ID: i + 1, Type: p.kind, Title: p.title, Description: p.desc, Datasource: pds,
			GridPos:     gridPos{H: h, W: w, X: x, Y: y},
			FieldConfig: map[string]any{"defaults": map[string]any{"unit": p.unit}, "overrides": []any{}},
		}
		for j, q := range p.queries {
			pn.Targets = append(pn.Targets, target{Datasource: pds, Expr: q[0], LegendFormat: q[1], RefID: string(rune('A' + j))})
		}
		panels = append(panels, pn)
		x += w
		if x >= 24 {
			x = 0
			y += h
		}
	}
	var vars []any
	if d.instanceVar {
		vars = append(vars, map[string]any{
			"name":       "instance",
			"label":      "App process",
			"type":       "query",
			"datasource": ds,
			"query":      map[string]any{"query": `label_values(up{job="rocketchat"}, instance)`, "refId": "instance"},
			"definition": `label_values(up{job="rocketchat"}, instance)`,
			"includeAll": true,
			"multi":      true,
			"allValue":   ".*",
			"current":    map[string]any{"selected": true, "text": []string{"All"}, "value": []string{"$__all"}},
			"refresh":    2,
			"sort":       3,
		})
	}
	tags := []string{"rocketchat", "rcgen"}
	// Every other dashboard links to the logs of the same time range
	// (Grafana's dashboard links by tag, keepTime: the link lists the
	// dashboards carrying the tag, so it shows nothing where logs are off:
	// https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/manage-dashboard-links/).
	var links []any
	if d.uid == logsDashboardUID {
		tags = append(tags, logsDashboardTag)
	} else {
		links = append(links, map[string]any{
			"title": "Logs", "type": "dashboards", "tags": []string{logsDashboardTag},
			"asDropdown": false, "keepTime": true, "includeVars": false, "targetBlank": false, "icon": "doc", "tooltip": "", "url": "",
		})
	}
	dash := map[string]any{
		"uid":           d.uid,
		"title":         d.title,
		"tags":          tags,
		"links":         append([]any{}, links...),
		"timezone":      "browser",
		"schemaVersion": 39,
		"version":       1,
		"editable":      false,
		"refresh":       "30s",
		"time":          map[string]string{"from": "now-6h", "to": "now"},
		"panels":        panels,
		"templating":    map[string]any{"list": append([]any{}, vars...)},
	}
	b, err := json.MarshalIndent(dash, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
