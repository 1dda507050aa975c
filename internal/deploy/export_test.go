package deploy

// SetAfterStep lets the external tests kill rcgen after a step of an
// apply; it returns the function that puts the hook back.
func SetAfterStep(f func(step string)) func() {
	old := afterStep
	afterStep = f
	return func() { afterStep = old }
}

// SetBeforeRename lets the external tests fail a rename.
func SetBeforeRename(f func(staged, path string) error) func() {
	old := beforeRename
	beforeRename = f
	return func() { beforeRename = old }
}
