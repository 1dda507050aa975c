package spec

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
)

var (
	promDurationRe = regexp.MustCompile(`^([1-9][0-9]{0,4}(y|w|d|h|m|s|ms))+$`)
	promSizeRe     = regexp.MustCompile(`^[1-9][0-9]{0,5}(B|KB|MB|GB|TB|PB)$`)
)

// ValidatePromDuration checks a Prometheus retention time such as 15d or 1y.
func ValidatePromDuration(s string) error {
	if !promDurationRe.MatchString(s) {
		return fmt.Errorf("%q is not a Prometheus duration: give e.g. 15d, 8w or 1y", s)
	}
	return nil
}

// ValidatePromSize checks a Prometheus retention size such as 10GB.
func ValidatePromSize(s string) error {
	if !promSizeRe.MatchString(s) {
		return fmt.Errorf("%q is not a Prometheus size: give e.g. 10GB or 500MB (units B, KB, MB, GB, TB, PB)", s)
	}
	return nil
}

// Alerting reports whether alerts are emailed.
func (a Answers) Alerting() bool { return a.SMTPHost != "" || a.AlertEmail != "" }

func plainAddress(s string) error {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || strings.ContainsAny(s, "\"'$`\\ ") {
		return fmt.Errorf("%q is not a plain email address such as ops@example.com", s)
	}
	return nil
}

func (a Answers) validateSMTP() []error {
	if !a.Alerting() && a.SMTPFrom == "" && a.SMTPUser == "" && a.SMTPPassword == "" {
		return nil
	}
	var errs []error
	add := func(field string, err error) {
		if err != nil {
			errs = append(errs, &FieldError{Field: field, Msg: err.Error()})
		}
	}
	if !a.Monitoring {
		add("alert-email", errors.New("alerts need monitoring: drop --no-monitoring, or the SMTP settings"))
	}
	if a.SMTPHost == "" {
		add("smtp-host", errors.New("is required to email alerts: give the mail server as host:port, e.g. smtp.example.com:587"))
	} else {
		host, port, err := net.SplitHostPort(a.SMTPHost)
		p, perr := strconv.Atoi(port)
		if err != nil || perr != nil || p < 1 || p > 65535 || host == "" || ValidateDomain(host) != nil && net.ParseIP(host) == nil {
			add("smtp-host", fmt.Errorf("%q is not host:port: give e.g. smtp.example.com:587", a.SMTPHost))
		}
	}
	if a.AlertEmail == "" {
		add("alert-email", errors.New("is required to email alerts: give the address that receives them"))
	} else {
		add("alert-email", plainAddress(a.AlertEmail))
	}
	if a.SMTPFrom == "" {
		add("smtp-from", errors.New("is required to email alerts: give the sender address, e.g. alerts@example.com"))
	} else {
		add("smtp-from", plainAddress(a.SMTPFrom))
	}
	if strings.ContainsAny(a.SMTPUser, "\"'$`\\ \t\n") {
		add("smtp-user", fmt.Errorf("%q has quotes, spaces or $ in it", a.SMTPUser))
	}
	if a.SMTPPassword != "" && a.SMTPUser == "" {
		add("smtp-user", errors.New("is required with an SMTP password"))
	}
	for _, r := range a.SMTPPassword {
		if r < ' ' || r == '\'' || r == 0x7f {
			add("smtp-password-file", errors.New("the SMTP password holds a newline, a control character or ': rcgen cannot store it safely in .env"))
			break
		}
	}
	return errs
}
