package cli

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/rcgen/rcgen/internal/prompt"
	"github.com/rcgen/rcgen/internal/render"
	"github.com/rcgen/rcgen/internal/sizing"
	"github.com/rcgen/rcgen/internal/spec"
)

// errCancelled is returned when the person declines to write.
var errCancelled = errors.New("cancelled: nothing was written")

// wizard asks, on a terminal, the answers that flags and answers files did
// not settle. Every question uses the validators the flags use.
type wizard struct {
	o     *GenerateOptions
	p     prompt.Prompter
	asked []question
}

type question struct {
	key   string // the flag it stands for
	label string // how "change an answer" lists it
	ask   func(w *wizard) error
}

// questions returns the questions in the order they are asked (a function,
// since the questions refer back to the list).
func questions() []question {
	return []question{
		{"domain", "public domain", (*wizard).askDomain},
		{"tls", "HTTPS", (*wizard).askTLS},
		{"email", "Let's Encrypt email", (*wizard).askEmail},
		{"license-file", "Enterprise licence", (*wizard).askLicense},
		{"users", "expected concurrent users", (*wizard).askUsers},
		{"mongodb-members", "MongoDB members", (*wizard).askMembers},
		{"monitoring", "monitoring", (*wizard).askMonitoring},
		{"alert-email", "alert emails", (*wizard).askAlerts},
	}
}

func (w *wizard) settled(key string) bool { return w.o.settled[key] }

// askMissing asks every question not settled by a flag or --config, in order.
func (w *wizard) askMissing() error {
	for _, q := range questions() {
		if w.settled(q.key) || q.key == "tls" && (w.settled("proxy") || w.settled("tls-cert")) {
			continue
		}
		before := len(w.asked)
		if err := q.ask(w); err != nil {
			return err
		}
		if len(w.asked) == before {
			continue // nothing to ask for these answers
		}
	}
	return nil
}

func (w *wizard) record(key string) {
	for _, q := range w.asked {
		if q.key == key {
			return
		}
	}
	for _, q := range questions() {
		if q.key == key {
			w.asked = append(w.asked, q)
		}
	}
}

func (w *wizard) askDomain() error {
	a := &w.o.Answers
	w.record("domain")
	for {
		v, err := w.p.Input("Public domain name users will type:",
			"The host name of this server in DNS, e.g. chat.example.com, without https:// or a path. "+
				"Rocket.Chat's ROOT_URL is built from it and must match what users type. "+
				"Use localhost to try Rocket.Chat on this machine over plain http.",
			a.Domain, func(s string) error {
				if _, err := netip.ParseAddr(s); err == nil {
					return nil // asked below: an address only if the person insists
				}
				return spec.ValidateDomain(s)
			})
		if err != nil {
			return err
		}
		a.Domain, a.AllowIP = v, false
		if _, err := netip.ParseAddr(v); err != nil {
			return nil
		}
		insist, err := w.p.Confirm(fmt.Sprintf("%s is an IP address, not a domain name. Use it anyway, over plain http?", v),
			"No certificate authority issues certificates for a bare address, so Rocket.Chat would be served "+
				"without HTTPS, and its ROOT_URL changes whenever the address does. A DNS name is better.", false)
		if err != nil {
			return err
		}
		if insist {
			a.AllowIP = true
			return nil
		}
	}
}

const (
	tlsAuto = "Automatic certificate"
	tlsOwn  = "My own certificate files"
	tlsNone = "None here: a proxy I already run terminates TLS"
)

func (w *wizard) askTLS() error {
	a := &w.o.Answers
	if spec.TLSModeFor(a.Domain) == spec.TLSNone {
		a.Proxy = spec.ProxyCaddy
		w.o.certPath, w.o.keyPath = "", ""
		return nil // localhost: plain http, nothing to choose
	}
	w.record("tls")
	auto := tlsAuto + " from Let's Encrypt (Caddy renews it)"
	if spec.TLSModeFor(a.Domain) == spec.TLSInternal {
		auto = tlsAuto + " from Caddy's own CA (a local name Let's Encrypt cannot reach)"
	}
	def := auto
	switch {
	case a.Proxy == spec.ProxyNone:
		def = tlsNone
	case w.o.certPath != "":
		def = tlsOwn
	}
	v, err := w.p.Select("How should HTTPS work?",
		"rcgen runs Caddy in front of Rocket.Chat. It can get and renew a certificate by itself, "+
			"serve certificate files you already have, or step aside when your own proxy terminates TLS "+
			"(the app then listens on 127.0.0.1 only).",
		[]string{auto, tlsOwn, tlsNone}, def)
	if err != nil {
		return err
	}
	switch {
	case v == tlsNone:
		a.Proxy = spec.ProxyNone
		w.o.certPath, w.o.keyPath = "", ""
	case v == tlsOwn:
		a.Proxy = spec.ProxyCaddy
		return w.askCertificate()
	default:
		a.Proxy = spec.ProxyCaddy
		w.o.certPath, w.o.keyPath = "", ""
	}
	return nil
}

func (w *wizard) askCertificate() error {
	a := &w.o.Answers
	var certPEM []byte
	cert, err := w.p.Input("Certificate file (PEM, full chain):", "The certificate for "+a.Domain+", with its intermediates.", w.o.certPath,
		func(path string) error {
			b, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("cannot read %s: %v", path, errors.Unwrap(err))
			}
			certPEM = b
			return nil
		})
	if err != nil {
		return err
	}
	key, err := w.p.Input("Key file (PEM, unencrypted):", "The private key of that certificate.", w.o.keyPath,
		func(path string) error {
			b, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("cannot read %s: %v", path, errors.Unwrap(err))
			}
			return spec.ValidateCertificate(certPEM, b, a.Domain)
		})
	if err != nil {
		return err
	}
	w.o.certPath, w.o.keyPath = cert, key
	return nil
}

func (w *wizard) askEmail() error {
	a := &w.o.Answers
	if a.Proxy != spec.ProxyCaddy || w.o.certPath != "" || spec.TLSModeFor(a.Domain) != spec.TLSACME {
		return nil
	}
	w.record("email")
	v, err := w.p.Input("Email for Let's Encrypt:",
		"Let's Encrypt registers the certificate's account with it and warns there before a certificate expires.",
		a.Email, func(s string) error { return spec.ValidateEmail(s, a.Domain) })
	if err != nil {
		return err
	}
	a.Email = v
	return nil
}

func (w *wizard) askLicense() error {
	w.record("license-file")
	has, err := w.p.Confirm("Do you have a Rocket.Chat Enterprise licence?",
		"Rocket.Chat shares real-time events between app processes only with an Enterprise licence, "+
			"so without one rcgen runs a single app process. With one, it runs one per core but one, as memory allows. "+
			"Starter and Pro licences do not include this.",
		w.o.licensePath != "")
	if err != nil {
		return err
	}
	if !has {
		w.o.licensePath = ""
		return nil
	}
	v, err := w.p.Input("Licence file:", "The file Rocket.Chat Cloud gave you; rcgen stores its content in .env.", w.o.licensePath,
		func(path string) error {
			b, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("cannot read %s: %v", path, errors.Unwrap(err))
			}
			l := spec.NormalizeLicense(string(b))
			if l == "" {
				return fmt.Errorf("%s is empty", path)
			}
			return spec.ValidateLicense(l)
		})
	if err != nil {
		return err
	}
	w.o.licensePath = v
	return nil
}

func (w *wizard) askUsers() error {
	a := &w.o.Answers
	w.record("users")
	def := ""
	if a.Users > 0 {
		def = strconv.Itoa(a.Users)
	}
	v, err := w.p.Input("Expected concurrent users (empty if unsure):",
		fmt.Sprintf("People online at the same time, not accounts. rcgen plans about %d per app process and checks Rocket.Chat's published hardware table.", sizing.UsersPerProcess),
		def, validateUsers)
	if err != nil {
		return err
	}
	a.Users, _ = strconv.Atoi(strings.TrimSpace(v))
	return nil
}

func validateUsers(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > spec.MaxUsers {
		return fmt.Errorf("%q is not a number of users: give a whole number from 1 to %d, or leave it empty", s, spec.MaxUsers)
	}
	return nil
}

const (
	members1 = "1 member: simplest, least memory"
	members3 = "3 members: survives a crashed mongod (not a dead host), three times the MongoDB memory"
)

func (w *wizard) askMembers() error {
	a := &w.o.Answers
	w.record("mongodb-members")
	def := members1
	if a.MongoDBMembers == 3 {
		def = members3
	}
	v, err := w.p.Select("MongoDB replica set:",
		"Rocket.Chat needs a replica set. Three members on one host keep the database up when one mongod crashes "+
			"or is restarted, but all three die with the host, and each needs its own memory.",
		[]string{members1, members3}, def)
	if err != nil {
		return err
	}
	a.MongoDBMembers = 1
	if v == members3 {
		a.MongoDBMembers = 3
	}
	return nil
}

func (w *wizard) askMonitoring() error {
	a := &w.o.Answers
	w.record("monitoring")
	v, err := w.p.Confirm("Run monitoring (Prometheus, Grafana and exporters)?",
		"Dashboards for the app processes, MongoDB and the host, served under /grafana. About 1GiB of memory.", a.Monitoring)
	if err != nil {
		return err
	}
	a.Monitoring = v
	return nil
}

// askAlerts asks where alerts go; empty means they only show in Grafana.
func (w *wizard) askAlerts() error {
	a := &w.o.Answers
	if !a.Monitoring {
		return nil
	}
	w.record("alert-email")
	to, err := w.p.Input("Email alerts to (empty: alerts show in Grafana only):",
		"Alertmanager emails firing alerts (an app process down, MongoDB down, disk nearly full...) through your mail server.",
		a.AlertEmail, func(s string) error {
			if s == "" {
				return nil
			}
			return (spec.Answers{AlertEmail: s, SMTPHost: "x.example:25", SMTPFrom: "x@example.com", Monitoring: true}).ValidateField("alert-email")
		})
	if err != nil {
		return err
	}
	a.AlertEmail = to
	if to == "" {
		a.SMTPHost, a.SMTPFrom, a.SMTPUser, a.SMTPPassword = "", "", "", ""
		return nil
	}
	if a.SMTPHost, err = w.p.Input("Mail server (host:port):", "Port 587 for STARTTLS is the usual one.", a.SMTPHost, func(s string) error {
		return (spec.Answers{AlertEmail: "x@example.com", SMTPHost: s, SMTPFrom: "x@example.com", Monitoring: true}).ValidateField("smtp-host")
	}); err != nil {
		return err
	}
	if a.SMTPFrom, err = w.p.Input("Sender address:", "", a.SMTPFrom, func(s string) error {
		return (spec.Answers{AlertEmail: "x@example.com", SMTPHost: "x.example:25", SMTPFrom: s, Monitoring: true}).ValidateField("smtp-from")
	}); err != nil {
		return err
	}
	if a.SMTPUser, err = w.p.Input("SMTP login (empty if the server needs none):", "", a.SMTPUser, func(s string) error {
		return (spec.Answers{AlertEmail: "x@example.com", SMTPHost: "x.example:25", SMTPFrom: "x@example.com", SMTPUser: s, Monitoring: true}).ValidateField("smtp-user")
	}); err != nil {
		return err
	}
	if a.SMTPUser != "" {
		pw, err := w.p.Password("SMTP password (kept in .env):", "Leave empty to keep the one already in .env.")
		if err != nil {
			return err
		}
		if pw != "" {
			w.o.smtpPassword = pw
		}
	}
	return nil
}

// askOut asks for the output directory; a directory of someone else's
// files is refused here, like with --out.
func (w *wizard) askOut() error {
	v, err := w.p.Input("Directory to write the deployment into:",
		"A new or empty directory, or an rcgen deployment to update (its secrets are kept).", w.o.Out,
		func(dir string) error {
			if strings.TrimSpace(dir) == "" {
				return errors.New("give a directory")
			}
			st, err := render.Inspect(dir)
			if err != nil {
				return err
			}
			if st == render.DirNotEmpty && !w.o.Force {
				return fmt.Errorf("%s holds files rcgen did not write: choose another directory", dir)
			}
			return nil
		})
	if err != nil {
		return err
	}
	w.o.Out = v
	return nil
}

const (
	confirmWrite  = "Write it"
	confirmChange = "Change an answer"
	confirmCancel = "Cancel"
)

// confirm shows the plan and asks to write it, change an answer, or cancel.
// It returns true to write, false to re-plan after a changed answer.
func (w *wizard) confirm(p sizing.Plan) (bool, error) {
	stderr := w.o.Env.IO.ErrOut
	fmt.Fprintln(stderr)
	if err := WritePlanTable(stderr, p); err != nil {
		return false, err
	}
	fmt.Fprintln(stderr)
	v, err := w.p.Select(fmt.Sprintf("Write the deployment to %s?", w.o.Out), "", []string{confirmWrite, confirmChange, confirmCancel}, confirmWrite)
	if err != nil {
		return false, err
	}
	switch v {
	case confirmWrite:
		return true, nil
	case confirmCancel:
		return false, errCancelled
	}
	var labels []string
	for _, q := range w.asked {
		labels = append(labels, q.label)
	}
	which, err := w.p.Select("Which answer?", "", labels, labels[0])
	if err != nil {
		return false, err
	}
	for _, q := range w.asked {
		if q.label == which {
			if err := q.ask(w); err != nil {
				return false, err
			}
			// A new domain or HTTPS choice may change what else applies.
			if q.key == "domain" || q.key == "tls" {
				for _, follow := range questions()[1:3] {
					if follow.key != q.key && !w.settled(follow.key) {
						if err := follow.ask(w); err != nil {
							return false, err
						}
					}
				}
			}
		}
	}
	return false, nil
}
