/**
 * A ksops generator as a person writes it (the format of ksops's README): a KRM exec function
 * named `name`, then `files` (the YAML from `files:` on, newline-terminated).
 */
export const handWrittenKsopsGenerator = (name: string, files: string) => `apiVersion: viaduct.ai/v1
kind: ksops
metadata:
  name: ${name}
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: ksops
${files}`;
