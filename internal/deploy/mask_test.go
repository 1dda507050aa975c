package deploy

import (
	"strings"
	"testing"

	"github.com/rcgen/rcgen/internal/render"
)

// TestMaskFindsSecretsAsComposeReadsThem: whatever form .env takes (export,
// quotes, spaces around =), a secret is masked wherever it appears.
func TestMaskFindsSecretsAsComposeReadsThem(t *testing.T) {
	env := strings.Join([]string{
		"DOMAIN=chat.example.com",
		"export MONGODB_ROOT_PASSWORD=Rootpass1234",
		`MONGODB_ROCKETCHAT_PASSWORD="Quoted pass 5678"`,
		"  GRAFANA_ADMIN_PASSWORD = Spaced9876",
		"SMTP_PASSWORD='single$quoted'",
		"ROCKETCHAT_LICENSE=LICENCE-TEXT-0001",
		"# a copy someone pasted: Rootpass1234",
		"",
	}, "\n")
	got := string(Mask(render.EnvFile, []byte(env)))
	for _, secret := range []string{"Rootpass1234", "Quoted pass 5678", "Spaced9876", "single$quoted", "LICENCE-TEXT-0001"} {
		if strings.Contains(got, secret) {
			t.Errorf("masked .env still shows %q:\n%s", secret, got)
		}
	}
	for _, keep := range []string{"DOMAIN=chat.example.com", "export MONGODB_ROOT_PASSWORD=********"} {
		if !strings.Contains(got, keep) {
			t.Errorf("masked .env lacks %q:\n%s", keep, got)
		}
	}
	if got := string(Mask(render.MongoKeyfile, []byte("KEY"))); strings.Contains(got, "KEY") {
		t.Errorf("keyfile shown: %q", got)
	}
	if got := string(Mask(render.ComposeFile, []byte("services: {}\n"))); got != "services: {}\n" {
		t.Errorf("a file without secrets was changed: %q", got)
	}
}
