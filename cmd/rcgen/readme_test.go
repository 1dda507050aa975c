package main

import (
	"os"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// TestReadmeShowsTheTestedUpgradePlan: the README's upgrade transcript is
// the plan the day-two script asserts byte for byte (plan.txt), so the docs
// cannot drift from what rcgen upgrade prints.
func TestReadmeShowsTheTestedUpgradePlan(t *testing.T) {
	a, err := txtar.ParseFile("testdata/script/daytwo.txtar")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range a.Files {
		if f.Name == "plan.txt" {
			if !strings.Contains(string(readme), "```\n"+string(f.Data)+"```\n") {
				t.Errorf("README.md's Upgrading section does not show the plan daytwo.txtar asserts:\n%s", f.Data)
			}
			return
		}
	}
	t.Fatal("daytwo.txtar has no plan.txt")
}

// TestReadmeShowsTheTestedUpTranscript: the README's "Start it" transcript
// is what up.txtar asserts: the stages (up-progress.txt) and the report
// (up.txt), byte for byte.
func TestReadmeShowsTheTestedUpTranscript(t *testing.T) {
	a, err := txtar.ParseFile("testdata/script/up.txtar")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var progress, report string
	for _, f := range a.Files {
		switch f.Name {
		case "up-progress.txt":
			progress = string(f.Data)
		case "up.txt":
			report = string(f.Data)
		}
	}
	if progress == "" || report == "" {
		t.Fatal("up.txtar has no up-progress.txt or up.txt")
	}
	if !strings.Contains(string(readme), "\n"+progress+report+"```\n") {
		t.Errorf("README.md's Start it section does not show the transcript up.txtar asserts:\n%s%s", progress, report)
	}
}

// TestReadmeShowsTheTestedAdoptPlan: the README's "Already running
// Rocket.Chat?" transcript is the dry run adopt.txtar asserts byte for
// byte, with the script's work directory shown as /srv.
func TestReadmeShowsTheTestedAdoptPlan(t *testing.T) {
	a, err := txtar.ParseFile("testdata/script/adopt.txtar")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range a.Files {
		if f.Name == "rocketchat-compose-plan.txt" {
			plan := strings.ReplaceAll(string(f.Data), "$WORK", "/srv")
			if !strings.Contains(string(readme), "```\n"+plan+"```\n") {
				t.Errorf("README.md's Already running Rocket.Chat? section does not show the plan adopt.txtar asserts:\n%s", plan)
			}
			return
		}
	}
	t.Fatal("adopt.txtar has no rocketchat-compose-plan.txt")
}
