// Package specs lists every agent for the documentation tools and the
// meta-data drift test.
package specs

import (
	"github.com/hanet/hanet/agents/bond"
	"github.com/hanet/hanet/agents/linkhealth"
	"github.com/hanet/hanet/agents/vip"
	"github.com/hanet/hanet/pkg/ocf"
)

// Agents returns every agent, in README order.
func Agents() []ocf.Agent {
	return []ocf.Agent{vip.Agent{}, bond.Agent{}, linkhealth.Agent{}}
}

// All returns the specs of every agent, in README order.
func All() []*ocf.Spec {
	var specs []*ocf.Spec
	for _, a := range Agents() {
		specs = append(specs, a.Spec())
	}
	return specs
}
