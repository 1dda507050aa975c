package catalog

import "testing"

// TestStranding: Rocket.Chat 8.0 and 8.1 start a deployment on MongoDB 8.2,
// which every release from 8.2 on leaves for 8.0; no other line does.
func TestStranding(t *testing.T) {
	for _, r := range Releases() {
		on, leftBy, ok := Stranding(r.Latest)
		want := r.Line == "8.0" || r.Line == "8.1"
		if ok != want {
			t.Errorf("Stranding(%s) = %v, want %v", r.Latest, ok, want)
			continue
		}
		if ok && (on.Series != "8.2" || leftBy.Line != "8.2") {
			t.Errorf("Stranding(%s) = on %s, left by %s; want on 8.2, left by 8.2", r.Latest, on.Series, leftBy.Line)
		}
	}
	if _, _, ok := Stranding("6.0.0"); ok {
		t.Error("a release outside the catalog is stranded")
	}
}
