package ocf

// Exports for the external tests (package ocf_test).

// SampleSpec is the test table with every parameter type and feature.
var SampleSpec = testSpec

// NewSampleAgent returns a recording agent with reload-agent and helpers.
func NewSampleAgent() Agent { return fullAgent{newFake()} }

// NewSampleAgentNoReload returns a recording agent without Reload.
func NewSampleAgentNoReload() Agent { return newFake() }
