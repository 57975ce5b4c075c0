// Package specs lists every agent's Spec for the documentation tools.
package specs

import (
	"github.com/hanet/hanet/agents/bond"
	"github.com/hanet/hanet/agents/linkhealth"
	"github.com/hanet/hanet/agents/vip"
	"github.com/hanet/hanet/pkg/ocf"
)

// All returns the specs of every agent, in README order.
func All() []*ocf.Spec {
	return []*ocf.Spec{vip.Agent{}.Spec(), bond.Agent{}.Spec(), linkhealth.Agent{}.Spec()}
}
