package kafka

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
)

// IncrementalAlterConfigs, versions 0-1.
//
// SET, DELETE, APPEND and SUBTRACT (the last two on list configs such as
// cleanup.policy) applied in order to a topic's or the broker's
// overrides; the rest stay. Errors and authorization as AlterConfigs.
func (c *conn) handleIncrementalAlterConfigs(r *request) {
	req := r.kreq.(*kmsg.IncrementalAlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	az := c.authz()
	for _, res := range req.Resources {
		rr := kmsg.NewIncrementalAlterConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		if code := configResourceDenied(az, res.ResourceType, res.ResourceName, opAlterConfigs); code != 0 {
			rr.ErrorCode, rr.ErrorMessage = code, authzMessage(code)
			resp.Resources = append(resp.Resources, rr)
			continue
		}
		ops := make([]broker.ConfigOp, 0, len(res.Configs))
		for _, cfg := range res.Configs {
			op := broker.ConfigOp{Name: cfg.Name, Op: broker.ConfigOpType(cfg.Op)}
			if cfg.Value != nil {
				op.Value = *cfg.Value
			}
			ops = append(ops, op)
		}
		err := c.alterConfigs(res.ResourceType, res.ResourceName, ops, false, req.ValidateOnly)
		rr.ErrorCode, rr.ErrorMessage = errCode(err), errMessage(err)
		resp.Resources = append(resp.Resources, rr)
	}
	r.respond(resp)
}
