package render

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"

	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// Secrets are generated once per deployment and then kept byte for byte.
type Secrets struct {
	MongoRootPassword       string
	MongoRocketChatPassword string
	MongoExporterPassword   string
	GrafanaAdminPassword    string
	// MongoKeyfile authenticates replica set members to each other.
	MongoKeyfile string
	// DeploymentID names this deployment in its backups, so a restore can
	// tell an archive of another deployment. Not a password; kept too.
	DeploymentID string
	// Placeholder marks the fixed, public secrets of documentation examples.
	Placeholder bool
}

// PlaceholderSecrets returns obvious, fixed secrets for the documentation
// examples, so their files are deterministic. They are public: a deployment
// using them is not secured. Only --example-secrets asks for them.
func PlaceholderSecrets() (Secrets, error) {
	return Secrets{
		MongoRootPassword:       "EXAMPLE-ONLY-mongodb-root-password",
		MongoRocketChatPassword: "EXAMPLE-ONLY-mongodb-rocketchat-password",
		MongoExporterPassword:   "EXAMPLE-ONLY-mongodb-exporter-password",
		GrafanaAdminPassword:    "EXAMPLE-ONLY-grafana-admin-password",
		MongoKeyfile:            strings.Repeat("EXAMPLEONLYKEYFILE", 4),
		DeploymentID:            "example-only",
		Placeholder:             true,
	}, nil
}

// Secret names as they appear in .env.
const (
	EnvMongoRootPassword       = "MONGODB_ROOT_PASSWORD"
	EnvMongoRocketChatPassword = "MONGODB_ROCKETCHAT_PASSWORD"
	EnvMongoExporterPassword   = "MONGODB_EXPORTER_PASSWORD"
	EnvGrafanaAdminPassword    = "GRAFANA_ADMIN_PASSWORD"
	// EnvSMTPPassword is given by the operator, not generated.
	EnvSMTPPassword = "SMTP_PASSWORD"
	// EnvBackupPassphrase encrypts backups; given by the operator.
	EnvBackupPassphrase = "BACKUP_PASSPHRASE"
	// EnvDeploymentID is the deployment's name in its backups.
	EnvDeploymentID = "RCGEN_DEPLOYMENT_ID"
	// EnvLicense holds the Enterprise licence.
	EnvLicense = "ROCKETCHAT_LICENSE"
	// EnvRocketChatVersion and EnvMongoDBVersion are the image tags the
	// deployment runs.
	EnvRocketChatVersion = "ROCKETCHAT_VERSION"
	EnvMongoDBVersion    = "MONGODB_VERSION"
)

// IsSecretEnvKey reports whether the value of .env's key is never
// printed: SecretEnvKeys, and the earlier backup passphrases.
func IsSecretEnvKey(key string) bool {
	_, old := oldPassphraseNumber(key)
	return SecretEnvKeys[key] || old
}

// SecretEnvKeys are the .env keys whose values are never printed (and
// BACKUP_PASSPHRASE_n: IsSecretEnvKey).
var SecretEnvKeys = map[string]bool{
	EnvMongoRootPassword: true, EnvMongoRocketChatPassword: true,
	EnvMongoExporterPassword: true, EnvGrafanaAdminPassword: true,
	EnvLicense: true, EnvSMTPPassword: true, EnvBackupPassphrase: true,
}

// passwordAlphabet needs no escaping in a MongoDB URL, a shell, YAML or .env.
const passwordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

const passwordLength = 32 // 32 characters of 57 is about 186 bits

// NewSecrets draws every secret from r (crypto/rand.Reader in real runs).
func NewSecrets(r io.Reader) (Secrets, error) {
	var s Secrets
	for _, p := range []*string{&s.MongoRootPassword, &s.MongoRocketChatPassword, &s.MongoExporterPassword, &s.GrafanaAdminPassword} {
		v, err := password(r)
		if err != nil {
			return Secrets{}, err
		}
		*p = v
	}
	key := make([]byte, 96)
	if _, err := io.ReadFull(r, key); err != nil {
		return Secrets{}, fmt.Errorf("generating the MongoDB keyfile: %w", err)
	}
	s.MongoKeyfile = base64.StdEncoding.EncodeToString(key)
	id := make([]byte, 8)
	if _, err := io.ReadFull(r, id); err != nil {
		return Secrets{}, fmt.Errorf("generating the deployment id: %w", err)
	}
	s.DeploymentID = fmt.Sprintf("%x", id)
	return s, nil
}

// DefaultSecrets draws secrets from crypto/rand.
func DefaultSecrets() (Secrets, error) { return NewSecrets(rand.Reader) }

func password(r io.Reader) (string, error) {
	var b strings.Builder
	n := big.NewInt(int64(len(passwordAlphabet)))
	for range passwordLength {
		i, err := rand.Int(r, n)
		if err != nil {
			return "", fmt.Errorf("generating a password: %w", err)
		}
		b.WriteByte(passwordAlphabet[i.Int64()])
	}
	return b.String(), nil
}

// Keep returns s with every secret that old already has replaced by old's, so
// a re-run never changes a password the data was created with.
func (s Secrets) Keep(old Secrets) Secrets {
	keep := func(cur *string, prev string) {
		if prev != "" {
			*cur = prev
		}
	}
	keep(&s.MongoRootPassword, old.MongoRootPassword)
	keep(&s.MongoRocketChatPassword, old.MongoRocketChatPassword)
	keep(&s.MongoExporterPassword, old.MongoExporterPassword)
	keep(&s.GrafanaAdminPassword, old.GrafanaAdminPassword)
	keep(&s.MongoKeyfile, old.MongoKeyfile)
	keep(&s.DeploymentID, old.DeploymentID)
	if old.MongoRootPassword != "" && !old.IsPlaceholder() {
		s.Placeholder = false
	}
	return s
}

// IsPlaceholder reports whether these are the public example secrets.
func (s Secrets) IsPlaceholder() bool {
	return strings.HasPrefix(s.MongoRootPassword, "EXAMPLE-ONLY-")
}

// SecretsFrom takes the secrets of an existing deployment from its parsed
// .env and its keyfile content (either may be empty).
func SecretsFrom(env map[string]string, keyfile []byte) Secrets {
	return Secrets{
		MongoRootPassword:       env[EnvMongoRootPassword],
		MongoRocketChatPassword: env[EnvMongoRocketChatPassword],
		MongoExporterPassword:   env[EnvMongoExporterPassword],
		GrafanaAdminPassword:    env[EnvGrafanaAdminPassword],
		MongoKeyfile:            strings.TrimSpace(string(keyfile)),
		DeploymentID:            env[EnvDeploymentID],
	}
}

// ParseEnv reads a .env file with compose's own parser, the way `docker
// compose` reads it; nothing from this process's environment leaks in.
func ParseEnv(b []byte) (map[string]string, error) {
	m, err := dotenv.UnmarshalBytesWithLookup(b, func(string) (string, bool) { return "", false })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvFile, err)
	}
	return m, nil
}

// envFile writes .env: versions, the public address, the licence and secrets.
func envFile(d *Data, s Secrets) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Generated by rcgen %s. Mode 0600: it holds the deployment's secrets.\n", d.RcgenVersion)
	if s.Placeholder {
		b.WriteString("# EXAMPLE ONLY: these secrets are public placeholders from rcgen's documentation.\n")
		b.WriteString("# Never start this deployment: generate your own with rcgen.\n")
	}
	b.WriteString("# Secrets are created once and kept on every re-run of rcgen: never change them\n")
	b.WriteString("# here, MongoDB keeps the passwords it was created with.\n")
	if len(d.Answers.OldBackupPassphrases) > 0 {
		fmt.Fprintf(&b, "# %s_1... are earlier backup passphrases that backups in %s/ still need\n", EnvBackupPassphrase, BackupsDir)
		b.WriteString("# (rcgen backup list shows which); a re-run drops one once no backup needs it.\n")
	}
	b.WriteString("\n")
	vars := map[string]string{
		EnvRocketChatVersion:       d.Answers.RocketChatVersion,
		EnvMongoDBVersion:          d.MongoImageTag(),
		EnvDomain:                  d.Answers.Domain,
		EnvRootURL:                 d.PublicURL,
		EnvMongoRootPassword:       s.MongoRootPassword,
		EnvMongoRocketChatPassword: s.MongoRocketChatPassword,
		// Kept even with monitoring off, so turning it back on later finds
		// the passwords the data was created with.
		EnvMongoExporterPassword: s.MongoExporterPassword,
		EnvGrafanaAdminPassword:  s.GrafanaAdminPassword,
		EnvDeploymentID:          s.DeploymentID,
	}
	if d.TLSMode == spec.TLSACME && (d.Has(sizing.Caddy) || d.Has(sizing.Traefik)) {
		vars[EnvACMEEmail] = d.Answers.Email
	}
	if d.Answers.Licensed() {
		vars[EnvLicense] = d.Answers.License
	}
	if d.Answers.Mail() && d.Answers.SMTPPassword != "" {
		// Single quotes: compose reads the value literally ($ and # included).
		vars[EnvSMTPPassword] = "'" + d.Answers.SMTPPassword + "'"
	}
	if d.Answers.BackupPassphrase != "" {
		// Kept with backups off too: the backups already taken need it.
		vars[EnvBackupPassphrase] = "'" + d.Answers.BackupPassphrase + "'"
	}
	for i, p := range d.Answers.OldBackupPassphrases {
		vars[EnvOldBackupPassphrase(i+1)] = "'" + p + "'"
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, vars[k])
	}
	if len(d.KeepEnv) > 0 {
		b.WriteString("\n# Yours, kept as they were: rcgen does not own these lines.\n")
		for _, l := range d.KeepEnv {
			b.WriteString(l + "\n")
		}
	}
	return b.Bytes()
}

// EnvDomain, EnvRootURL and EnvACMEEmail are the public address in .env.
const (
	EnvDomain    = "DOMAIN"
	EnvRootURL   = "ROOT_URL"
	EnvACMEEmail = "ACME_EMAIL"
)

// EnvOldBackupPassphrase is the .env key of the n-th (from 1) earlier
// backup passphrase, kept while a backup needs it.
func EnvOldBackupPassphrase(n int) string { return fmt.Sprintf("%s_%d", EnvBackupPassphrase, n) }

// OldBackupPassphrases returns the earlier backup passphrases in env
// (parsed .env), in the order of their numbers.
func OldBackupPassphrases(env map[string]string) []string {
	var nums []int
	for k := range env {
		if n, ok := oldPassphraseNumber(k); ok && env[k] != "" {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	var out []string
	for _, n := range nums {
		out = append(out, env[EnvOldBackupPassphrase(n)])
	}
	return out
}

// oldPassphraseNumber reads n from BACKUP_PASSPHRASE_n (n from 1, no
// leading zero).
func oldPassphraseNumber(k string) (int, bool) {
	rest, ok := strings.CutPrefix(k, EnvBackupPassphrase+"_")
	if !ok || rest == "" || rest[0] == '0' || len(rest) > 4 {
		return 0, false
	}
	n := 0
	for _, c := range rest {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// OwnsEnvKey reports whether rcgen writes key in .env (any other line is
// the operator's, and is kept as it is).
func OwnsEnvKey(key string) bool {
	_, old := oldPassphraseNumber(key)
	return OwnedEnvKeys[key] || old
}

// OwnedEnvKeys are every .env key rcgen writes but the earlier backup
// passphrases (OwnsEnvKey); any other line of a deployment's .env is the
// operator's, and is kept.
var OwnedEnvKeys = map[string]bool{
	EnvRocketChatVersion: true, EnvMongoDBVersion: true, EnvDomain: true, EnvRootURL: true, EnvACMEEmail: true,
	EnvMongoRootPassword: true, EnvMongoRocketChatPassword: true, EnvMongoExporterPassword: true,
	EnvGrafanaAdminPassword: true, EnvLicense: true, EnvSMTPPassword: true,
	EnvBackupPassphrase: true, EnvDeploymentID: true,
}

// MissingMongoDB names the MongoDB secrets s lacks: the passwords in .env
// and the keyfile.
func (s Secrets) MissingMongoDB() []string {
	var m []string
	for _, x := range []struct{ name, v string }{
		{EnvMongoRootPassword, s.MongoRootPassword},
		{EnvMongoRocketChatPassword, s.MongoRocketChatPassword},
		{EnvMongoExporterPassword, s.MongoExporterPassword},
		{MongoKeyfile, s.MongoKeyfile},
	} {
		if x.v == "" {
			m = append(m, x.name)
		}
	}
	return m
}
