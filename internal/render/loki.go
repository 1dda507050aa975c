package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// lokiConfig is the part of Loki's configuration file rcgen writes, one
// field per key, from Loki 3.7's configuration reference
// (https://grafana.com/docs/loki/v3.7.x/configure/). Loki's own
// `-verify-config` cannot run in rcgen's tests: Loki's Go module is AGPL,
// which rcgen's module policy forbids building. So CheckLoki decodes the
// file strictly into this model instead: a key Loki does not have (or a
// key in the wrong block) is refused, and so are values of the wrong type.
// Only the blocks rcgen writes are modelled; a key rcgen starts writing
// must be added here from the same reference.
type lokiConfig struct {
	AuthEnabled bool `yaml:"auth_enabled"`
	Server      struct {
		HTTPListenAddress string `yaml:"http_listen_address"`
		HTTPListenPort    int    `yaml:"http_listen_port"`
		GRPCListenAddress string `yaml:"grpc_listen_address"`
		GRPCListenPort    int    `yaml:"grpc_listen_port"`
		LogLevel          string `yaml:"log_level"`
	} `yaml:"server"`
	Common struct {
		InstanceAddr      string `yaml:"instance_addr"`
		PathPrefix        string `yaml:"path_prefix"`
		ReplicationFactor int    `yaml:"replication_factor"`
		Storage           struct {
			Filesystem struct {
				ChunksDirectory string `yaml:"chunks_directory"`
				RulesDirectory  string `yaml:"rules_directory"`
			} `yaml:"filesystem"`
		} `yaml:"storage"`
		Ring struct {
			KVStore struct {
				Store string `yaml:"store"`
			} `yaml:"kvstore"`
		} `yaml:"ring"`
	} `yaml:"common"`
	SchemaConfig struct {
		Configs []struct {
			From        string `yaml:"from"`
			Store       string `yaml:"store"`
			ObjectStore string `yaml:"object_store"`
			Schema      string `yaml:"schema"`
			Index       struct {
				Prefix string `yaml:"prefix"`
				Period string `yaml:"period"`
			} `yaml:"index"`
		} `yaml:"configs"`
	} `yaml:"schema_config"`
	LimitsConfig struct {
		RetentionPeriod         string `yaml:"retention_period"`
		AllowStructuredMetadata bool   `yaml:"allow_structured_metadata"`
		VolumeEnabled           bool   `yaml:"volume_enabled"`
	} `yaml:"limits_config"`
	Compactor struct {
		WorkingDirectory     string `yaml:"working_directory"`
		CompactionInterval   string `yaml:"compaction_interval"`
		RetentionEnabled     bool   `yaml:"retention_enabled"`
		RetentionDeleteDelay string `yaml:"retention_delete_delay"`
		DeleteRequestStore   string `yaml:"delete_request_store"`
	} `yaml:"compactor"`
	Analytics struct {
		ReportingEnabled bool `yaml:"reporting_enabled"`
	} `yaml:"analytics"`
}

// CheckLoki checks a Loki configuration against lokiConfig and the rules
// Loki applies at start-up to what rcgen relies on: the schema that OTLP's
// structured metadata needs (tsdb, v13), retention that the compactor
// enforces (retention_enabled needs a delete_request_store), durations
// Loki can parse, and a 24h index period.
func CheckLoki(b []byte) error {
	var c lokiConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", LokiFile, err)
	}
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{LokiFile}, a...)...))
	}
	if len(c.SchemaConfig.Configs) == 0 {
		bad("schema_config has no period")
	}
	for _, s := range c.SchemaConfig.Configs {
		if _, err := time.Parse(time.DateOnly, s.From); err != nil {
			bad("schema_config from %q is not a YYYY-MM-DD date", s.From)
		}
		// Structured metadata, which OTLP ingestion stores, needs tsdb and
		// schema v13 (https://grafana.com/docs/loki/v3.7.x/get-started/labels/structured-metadata/).
		if s.Store != "tsdb" || s.Schema != "v13" {
			bad("schema_config needs store tsdb and schema v13 for OTLP's structured metadata, not %s %s", s.Store, s.Schema)
		}
		if s.Index.Period != "24h" {
			bad("tsdb's index period must be 24h, not %q", s.Index.Period)
		}
		if s.ObjectStore != "filesystem" {
			bad("object_store %q is not the filesystem rcgen stores on", s.ObjectStore)
		}
	}
	for key, v := range map[string]string{
		"limits_config.retention_period":   c.LimitsConfig.RetentionPeriod,
		"compactor.compaction_interval":    c.Compactor.CompactionInterval,
		"compactor.retention_delete_delay": c.Compactor.RetentionDeleteDelay,
	} {
		if _, err := model.ParseDuration(v); err != nil {
			bad("%s: %q is not a duration Loki reads", key, v)
		}
	}
	// Loki refuses to start with retention on and no store for delete
	// requests ("compactor.delete-request-store should be configured when
	// retention is enabled", pkg/compactor).
	if c.Compactor.RetentionEnabled && c.Compactor.DeleteRequestStore == "" {
		bad("compactor.retention_enabled needs compactor.delete_request_store")
	}
	if !c.LimitsConfig.AllowStructuredMetadata {
		bad("limits_config.allow_structured_metadata must be true: Loki refuses OTLP logs without it")
	}
	return errors.Join(errs...)
}
