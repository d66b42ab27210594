// Files people write by hand (worker config, task definitions, shadow config) may be JSON or,
// named *.yml / *.yaml, YAML. The YAML parser (~12 MiB resident) is loaded only for a YAML file:
// generic-worker configs are JSON, so a worker normally never loads it.

export const isYamlFile = (file: string): boolean => /\.ya?ml$/i.test(file)

/** `text` (the contents of `file`) parsed as YAML or JSON by the file's name; throws the parser's error. */
export async function parseJsonOrYaml(file: string, text: string): Promise<unknown> {
  if (!isYamlFile(file)) return JSON.parse(text) as unknown
  const { default: YAML } = await import('yaml')
  return YAML.parse(text) as unknown
}
