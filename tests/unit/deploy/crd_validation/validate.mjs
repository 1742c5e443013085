// Reads a JSON array of Kubernetes custom resources on stdin and validates each one against
// the schema of its CRD (compiled by @kubernetes-models from the operators' own CRDs).
// Prints a JSON array of {kind, name, error}; an empty array means every resource is valid.
import { KafkaTopic } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2/KafkaTopic";
import { KafkaUser } from "@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1beta2/KafkaUser";
import { Cluster } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Cluster";
import { Database } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Database";

const MODELS = {
  "kafka.strimzi.io/v1beta2/KafkaTopic": KafkaTopic,
  "kafka.strimzi.io/v1beta2/KafkaUser": KafkaUser,
  "postgresql.cnpg.io/v1/Cluster": Cluster,
  "postgresql.cnpg.io/v1/Database": Database,
};

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const resources = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const problems = [];
for (const resource of resources) {
  const model = MODELS[`${resource.apiVersion}/${resource.kind}`];
  const name = resource.metadata?.name;
  if (!model) {
    problems.push({ kind: resource.kind, name, error: `no schema for ${resource.apiVersion}` });
    continue;
  }
  try {
    new model(resource).validate();
  } catch (error) {
    problems.push({ kind: resource.kind, name, error: String(error.message ?? error) });
  }
}
process.stdout.write(JSON.stringify(problems));
