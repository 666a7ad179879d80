#!/usr/bin/env bash
# Validates the Kubernetes manifests of deploy/kubernetes/ against the Kubernetes API's JSON
# schemas (.ci/run calls it; runnable by hand from anywhere). The validator is
# kubernetes-validate from PyPI, which bundles the schemas of every Kubernetes release it
# knows and so runs offline once installed; kubeconform and `kubectl apply --dry-run` need
# GitHub releases or an API server. Strict: a field the API does not have is an error, so a
# misspelt `readOnlyRootFilesystem` fails here instead of being dropped by the cluster.
#
#   1. every manifest but kustomization.yaml, against the oldest Kubernetes the manifests
#      are written for (1.29: pod failure policies with onPodConditions optional) and the
#      newest the validator bundles;
#   2. a manifest with a misspelt field must fail (the validator really validates);
#   3. what `kubectl kustomize` renders, where kubectl is installed (skipped, with a message,
#      where it is not).
#
# tests/suite/deploy.rs checks what the schemas cannot: that the pieces fit together.
#
#   PYTHON           the Python 3 to use (default: python3).
set -euo pipefail

KUBERNETES_VALIDATE_VERSION=1.37.0
KUBERNETES_VERSIONS="1.29.0 1.37.0"

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=${PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/shush-deploy.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() {
    echo "test-deploy: FAILED: $*" >&2
    exit 1
}

echo "== test-deploy: kubernetes-validate $KUBERNETES_VALIDATE_VERSION (PyPI)"
"$py" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --disable-pip-version-check --quiet \
    "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
validate=$work/venv/bin/kubernetes-validate

manifests=()
for f in deploy/kubernetes/*.yaml; do
    [ "$(basename "$f")" = kustomization.yaml ] || manifests+=("$f")
done
[ ${#manifests[@]} -ge 4 ] || fail "expected the Secret, two Jobs and a CronJob, found: ${manifests[*]}"

for v in $KUBERNETES_VERSIONS; do
    echo "== test-deploy: ${#manifests[@]} manifests against Kubernetes $v (strict)"
    "$validate" --strict -k "$v" "${manifests[@]}" || fail "a manifest is not valid for Kubernetes $v"
done

echo "== test-deploy: a misspelt field fails"
sed 's/readOnlyRootFilesystem:/readOnlyRootFilesytem:/' deploy/kubernetes/worker-job.yaml \
    >"$work/misspelt.yaml"
if "$validate" --strict --quiet "$work/misspelt.yaml" >"$work/out" 2>&1; then
    fail "kubernetes-validate passed a Job with a misspelt field"
fi
grep -q "readOnlyRootFilesytem" "$work/out" || { cat "$work/out" >&2; fail "the error does not name the field"; }

if command -v kubectl >/dev/null 2>&1; then
    echo "== test-deploy: kubectl kustomize deploy/kubernetes"
    kubectl kustomize deploy/kubernetes >"$work/rendered.yaml"
    for kind in "kind: CronJob" "kind: Job"; do
        grep -q "^$kind\$" "$work/rendered.yaml" || fail "the kustomization renders no $kind"
    done
    "$validate" --strict "$work/rendered.yaml" || fail "the rendered kustomization is not valid"
else
    echo "test-deploy: skipped kubectl kustomize: kubectl is not installed"
fi
echo "test-deploy: ok"
