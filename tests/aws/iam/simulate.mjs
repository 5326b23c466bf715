// A long-lived IAM evaluator for the tests: one JSON request per line on stdin, one JSON answer per
// line on stdout (same order). The evaluation is @cloud-copilot/iam-simulate's (identity and
// resource policies, every condition operator, the action, resource type and context keys checked
// against AWS's IAM service reference). Driven by tests/aws/iam_harness.py.
//
// request: {"principal": arn, "action": "s3:GetObject", "resource": arn, "account": "123456789012",
//           "context": {"s3:prefix": "raw/"}, "policies": [{"name": ..., "policy": {...}}],
//           "resourcePolicy": {...} | null}
// answer:  {"result": "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied" | "error", "detail": ...}
import { createInterface } from 'node:readline'
import { runSimulation } from '@cloud-copilot/iam-simulate'

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
let queue = Promise.resolve()

async function answer(line) {
  let req
  try {
    req = JSON.parse(line)
  } catch (e) {
    return { result: 'error', detail: `not JSON: ${e}` }
  }
  const simulation = {
    request: {
      principal: req.principal,
      action: req.action,
      resource: { resource: req.resource, accountId: req.account },
      contextVariables: req.context || {},
    },
    identityPolicies: req.policies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: req.resourcePolicy || undefined,
  }
  try {
    const out = await runSimulation(simulation, {})
    if (out.resultType === 'error') {
      return { result: 'error', detail: out.errors }
    }
    const ignored = out.resultType === 'single' ? out.result.ignoredContextKeys : undefined
    return { result: out.overallResult, ignored: ignored || [] }
  } catch (e) {
    return { result: 'error', detail: String(e && e.stack ? e.stack : e) }
  }
}

lines.on('line', (line) => {
  queue = queue.then(async () => {
    const out = await answer(line)
    process.stdout.write(JSON.stringify(out) + '\n')
  })
})
