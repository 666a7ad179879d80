//! File formats for the corpus: how each format holds a value, a raw block and a line, the
//! realistic filler code around them, and the generic hard negatives.

use super::{Item, Rng};

/// What is planted, before a format gives it a shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A single-line value assigned to a key (`KEY = "value"`, `key: value`, `<key>value</key>`).
    /// The value holds no whitespace, quotes or backslashes.
    Value {
        /// Key, in UPPER_SNAKE case; each format restyles it.
        key: String,
        /// The value.
        value: String,
    },
    /// Raw text, possibly multi-line, kept byte for byte (in a string literal, a heredoc, a
    /// YAML block scalar, a code fence, a comment…).
    Block {
        /// The text.
        text: String,
        /// Line of the labelled content within `text` (0-based).
        secret_line: usize,
    },
    /// Raw lines written as they are; format-specific (only formats that ask for them).
    Line {
        /// The text (may hold several lines, already indented for its format).
        text: String,
    },
}

/// A rendered file and, per planted shape, its 1-based lines: (first line of the block, line
/// of the labelled content, last line of the block).
#[derive(Debug, Clone)]
pub struct Rendered {
    /// File contents.
    pub content: String,
    /// (first, labelled, last) line per shape, in the order given.
    pub lines: Vec<(u64, u64, u64)>,
}

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Python,
    JavaScript,
    TypeScript,
    Go,
    Java,
    K8sDeployment,
    K8sConfigMap,
    K8sSecret,
    GithubActions,
    DockerCompose,
    Json,
    DotEnv,
    Dockerfile,
    Shell,
    Xml,
    Ini,
    Properties,
    Toml,
    Markdown,
    CiLog,
    Terraform,
    Lockfile,
    MinifiedJs,
    PemBundle,
    Text,
}

/// Formats that hold only the items sent to them by name.
const TARGETED_ONLY: &[Kind] = &[
    Kind::K8sSecret,
    Kind::Lockfile,
    Kind::MinifiedJs,
    Kind::PemBundle,
];

impl Kind {
    /// Every format.
    pub const ALL: [Kind; 25] = [
        Kind::Python,
        Kind::JavaScript,
        Kind::TypeScript,
        Kind::Go,
        Kind::Java,
        Kind::K8sDeployment,
        Kind::K8sConfigMap,
        Kind::K8sSecret,
        Kind::GithubActions,
        Kind::DockerCompose,
        Kind::Json,
        Kind::DotEnv,
        Kind::Dockerfile,
        Kind::Shell,
        Kind::Xml,
        Kind::Ini,
        Kind::Properties,
        Kind::Toml,
        Kind::Markdown,
        Kind::CiLog,
        Kind::Terraform,
        Kind::Lockfile,
        Kind::MinifiedJs,
        Kind::PemBundle,
        Kind::Text,
    ];

    /// Short name used in label contexts.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Python => "python",
            Kind::JavaScript => "javascript",
            Kind::TypeScript => "typescript",
            Kind::Go => "go",
            Kind::Java => "java",
            Kind::K8sDeployment => "k8s-deployment",
            Kind::K8sConfigMap => "k8s-configmap",
            Kind::K8sSecret => "k8s-secret",
            Kind::GithubActions => "github-actions",
            Kind::DockerCompose => "docker-compose",
            Kind::Json => "json",
            Kind::DotEnv => "dotenv",
            Kind::Dockerfile => "dockerfile",
            Kind::Shell => "shell",
            Kind::Xml => "xml",
            Kind::Ini => "ini",
            Kind::Properties => "properties",
            Kind::Toml => "toml",
            Kind::Markdown => "markdown",
            Kind::CiLog => "ci-log",
            Kind::Terraform => "terraform",
            Kind::Lockfile => "lockfile",
            Kind::MinifiedJs => "minified-js",
            Kind::PemBundle => "pem",
            Kind::Text => "text",
        }
    }

    /// How many planted items one file of this format holds; (0, 0) never happens.
    pub fn items_per_file(self) -> (usize, usize) {
        match self {
            Kind::Lockfile => (20, 40),
            Kind::MinifiedJs => (3, 6),
            Kind::PemBundle => (1, 3),
            Kind::K8sSecret => (2, 5),
            Kind::Text => (1, 4),
            _ => (3, 8),
        }
    }

    /// A representative path (for checking which rules apply to this format's files).
    pub fn sample_path(self) -> String {
        self.path(&mut Rng::new(0), 0)
    }

    /// A path for the `n`-th file of this format.
    pub fn path(self, rng: &mut Rng, n: usize) -> String {
        let noun = *rng.pick(NOUNS);
        let svc = *rng.pick(SERVICES);
        match self {
            Kind::Python => format!("services/{svc}/{svc}/{noun}_{n}.py"),
            Kind::JavaScript => format!("web/src/{noun}/{noun}-{n}.js"),
            Kind::TypeScript => format!("web/src/lib/{noun}{n}.ts"),
            Kind::Go => format!("internal/{noun}/{noun}_{n}.go"),
            Kind::Java => format!(
                "src/main/java/com/acme/{svc}/{}Service{n}.java",
                pascal(noun)
            ),
            Kind::K8sDeployment => format!("deploy/k8s/{svc}/deployment-{n}.yaml"),
            Kind::K8sConfigMap => format!("deploy/k8s/{svc}/configmap-{n}.yaml"),
            Kind::K8sSecret => format!("deploy/k8s/{svc}/secret-{n}.yaml"),
            Kind::GithubActions => format!(".github/workflows/{noun}-{n}.yml"),
            Kind::DockerCompose => format!("compose/{svc}-{n}/docker-compose.yml"),
            Kind::Json => format!("config/{svc}/{noun}.{n}.json"),
            Kind::DotEnv => format!("services/{svc}/env/{n}/.env"),
            Kind::Dockerfile => format!("docker/{svc}-{n}/Dockerfile"),
            Kind::Shell => format!("scripts/{noun}-{n}.sh"),
            Kind::Xml => format!("conf/{svc}/{noun}-{n}.xml"),
            Kind::Ini => format!("conf/{svc}/{noun}-{n}.ini"),
            Kind::Properties => {
                format!("{svc}/src/main/resources/application-{n}.properties")
            }
            Kind::Toml => format!("config/{svc}/{noun}-{n}.toml"),
            Kind::Markdown => format!("docs/{noun}/{svc}-{n}.md"),
            Kind::CiLog => format!("logs/ci/job-{}-{n}.log", 4000 + rng.below(5000)),
            Kind::Terraform => format!("infra/{svc}/{noun}_{n}.tf"),
            Kind::Lockfile => format!("web/{svc}-{n}/package-lock.json"),
            Kind::MinifiedJs => format!("web/dist/{noun}-{n}.min.js"),
            Kind::PemBundle => format!("certs/{svc}-{n}.pem"),
            Kind::Text => format!("notes/{noun}-{n}.txt"),
        }
    }

    /// Whether this format can hold `shape` (`targeted`: the item asked for this format).
    pub fn accepts(self, shape: &Shape, targeted: bool) -> bool {
        if TARGETED_ONLY.contains(&self) && !targeted {
            return false;
        }
        match shape {
            Shape::Line { .. } => targeted,
            Shape::Value { .. } => !matches!(self, Kind::PemBundle | Kind::MinifiedJs),
            Shape::Block { text, .. } => {
                let multi = text.contains('\n');
                match self {
                    Kind::Json => {
                        !multi && !text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20)
                    }
                    Kind::Ini | Kind::Properties => !multi,
                    Kind::DotEnv => !multi || !text.contains('\''),
                    Kind::Toml => !text.contains("'''"),
                    Kind::Xml => !text.contains("]]>"),
                    Kind::Shell | Kind::Dockerfile => !text.lines().any(|l| l == "EOF"),
                    Kind::Terraform => !text.lines().any(|l| l.trim() == "EOT"),
                    Kind::K8sDeployment | Kind::Lockfile | Kind::MinifiedJs | Kind::K8sSecret => {
                        false
                    }
                    _ => true,
                }
            }
        }
    }

    /// Renders a file holding `shapes` among filler.
    pub fn render(self, rng: &mut Rng, shapes: &[&Shape]) -> Rendered {
        let mut w = W::default();
        let mut lines = vec![(0, 0, 0); shapes.len()];
        // Structured formats put values and blocks in different sections.
        let mut order: Vec<usize> = (0..shapes.len()).collect();
        if matches!(
            self,
            Kind::GithubActions | Kind::DockerCompose | Kind::K8sConfigMap | Kind::Lockfile
        ) {
            order.sort_by_key(|&i| match shapes[i] {
                Shape::Value { .. } | Shape::Line { .. } => 0,
                Shape::Block { .. } => 1,
            });
        }
        if self == Kind::Json {
            return render_json(rng, shapes);
        }
        self.open(&mut w, rng);
        let mut section = 0;
        for &i in &order {
            let s = shapes[i];
            if matches!(s, Shape::Block { .. }) && section == 0 {
                self.middle(&mut w, rng);
                section = 1;
            }
            self.filler(&mut w, rng, section);
            lines[i] = self.put(&mut w, rng, s);
        }
        if section == 0 {
            self.middle(&mut w, rng);
        }
        self.filler(&mut w, rng, 1);
        self.close(&mut w, rng);
        Rendered {
            content: w.out,
            lines,
        }
    }

    /// A file of this format with nothing planted: `chunks` pieces of filler.
    pub fn render_clean(self, rng: &mut Rng, chunks: usize) -> String {
        let mut w = W::default();
        self.open(&mut w, rng);
        for _ in 0..chunks {
            self.filler(&mut w, rng, 0);
        }
        self.middle(&mut w, rng);
        self.filler(&mut w, rng, 1);
        self.close(&mut w, rng);
        w.out
    }

    fn open(self, w: &mut W, rng: &mut Rng) {
        let noun = *rng.pick(NOUNS);
        let svc = *rng.pick(SERVICES);
        match self {
            Kind::Python => {
                w.push(&format!(
                    "\"\"\"{} {noun} helpers for the {svc} service.\"\"\"\n",
                    cap(rng.pick(VERBS))
                ));
                let mut mods: Vec<&str> = (0..rng.range(2, 5)).map(|_| *rng.pick(PY_MODULES)).collect();
                mods.sort_unstable();
                mods.dedup();
                for m in mods {
                    w.push(&format!("import {m}"));
                }
                w.push(&format!(
                    "from {svc}.{noun} import {}{}\n\nlogger = logging.getLogger(__name__)\n",
                    pascal(noun),
                    rng.pick(SUFFIXES)
                ));
            }
            Kind::JavaScript | Kind::TypeScript => {
                w.push("'use strict';\n");
                for _ in 0..rng.range(1, 3) {
                    let n = *rng.pick(NOUNS);
                    w.push(&format!("import {{ {}{} }} from './{n}';", pascal(n), rng.pick(SUFFIXES)));
                }
                w.push(&format!("import {} from '{}';\n", rng.pick(&["axios", "express", "lodash", "dayjs", "zod"]), rng.pick(&["axios", "express", "lodash", "dayjs", "zod"])));
            }
            Kind::Go => {
                w.push(&format!("package {noun}\n\nimport (\n\t\"context\"\n\t\"fmt\"\n\t\"net/http\"\n\t\"os\"\n\t\"time\"\n)\n"));
            }
            Kind::Java => {
                w.push(&format!(
                    "package com.acme.{svc};\n\nimport java.util.List;\nimport java.util.Map;\nimport java.time.Duration;\n\npublic class {}Service {{\n",
                    pascal(noun)
                ));
            }
            Kind::K8sDeployment => {
                w.push(&format!(
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {svc}\n  labels:\n    app: {svc}\n    tier: {}\nspec:\n  replicas: {}\n  selector:\n    matchLabels:\n      app: {svc}\n  template:\n    metadata:\n      labels:\n        app: {svc}\n    spec:\n      containers:\n        - name: {svc}\n          image: registry.example.com/{svc}:{}.{}.{}\n          ports:\n            - containerPort: {}\n          env:",
                    rng.pick(&["backend", "frontend", "worker"]),
                    rng.range(1, 6),
                    rng.range(1, 4),
                    rng.range(0, 30),
                    rng.range(0, 9),
                    rng.pick(&[8080, 3000, 9000, 5000])
                ));
            }
            Kind::K8sConfigMap => {
                w.push(&format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {svc}-{noun}-config\n  namespace: {}\ndata:",
                    rng.pick(&["default", "prod", "staging", "platform"])
                ));
            }
            Kind::K8sSecret => {
                w.push(&format!(
                    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {svc}-credentials\n  namespace: {}\ntype: Opaque\ndata:",
                    rng.pick(&["default", "prod", "staging", "platform"])
                ));
            }
            Kind::GithubActions => {
                w.push(&format!(
                    "name: {} {noun}\n\non:\n  push:\n    branches: [main]\n  pull_request:\n\npermissions:\n  contents: read\n\nenv:\n  NODE_VERSION: \"{}\"\n  CI: true",
                    cap(rng.pick(VERBS)),
                    rng.pick(&["18", "20", "22"])
                ));
            }
            Kind::DockerCompose => {
                w.push(&format!(
                    "services:\n  {svc}:\n    image: registry.example.com/{svc}:latest\n    restart: unless-stopped\n    ports:\n      - \"{}:{}\"\n    environment:",
                    rng.pick(&[8080, 3000, 9000]),
                    rng.pick(&[8080, 3000, 9000])
                ));
            }
            Kind::DotEnv => w.push(&format!("# {svc} environment ({})", rng.pick(&["production", "staging", "local"]))),
            Kind::Dockerfile => {
                w.push(&format!(
                    "# syntax=docker/dockerfile:1.6\nFROM {} AS build\nWORKDIR /src",
                    rng.pick(&["python:3.12-slim", "node:20-alpine", "golang:1.22", "eclipse-temurin:21-jdk"])
                ));
            }
            Kind::Shell => w.push(&format!("#!/usr/bin/env bash\n# {} the {svc} {noun}s.\nset -euo pipefail\n", cap(rng.pick(VERBS)))),
            Kind::Xml => w.push(&format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<configuration name=\"{svc}\">")),
            Kind::Ini => w.push(&format!("; {svc} settings\n[{noun}]")),
            Kind::Properties => w.push(&format!("# {svc} configuration\nspring.application.name={svc}")),
            Kind::Toml => w.push(&format!("# {svc} configuration\ntitle = \"{svc}\"\n\n[{noun}]")),
            Kind::Markdown => w.push(&format!("# {} {noun}s\n\nThis page explains how the {svc} service {}s {noun}s.\n", cap(rng.pick(VERBS)), rng.pick(VERBS))),
            Kind::CiLog => {
                w.ts = 1_700_000_000 + rng.below(50_000_000) as u64;
                let l = w.log_prefix(rng);
                w.push(&format!("{l}##[group]Run actions/checkout@v4"));
                let l = w.log_prefix(rng);
                w.push(&format!("{l}Syncing repository: acme/{svc}"));
            }
            Kind::Terraform => w.push(&format!("terraform {{\n  required_version = \">= 1.5\"\n}}\n\nprovider \"aws\" {{\n  region = \"{}\"\n}}\n", rng.pick(REGIONS))),
            Kind::Lockfile => w.push(&format!("{{\n  \"name\": \"{svc}\",\n  \"version\": \"1.{}.0\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {{", rng.range(0, 20))),
            Kind::MinifiedJs => w.push("/*! app bundle | (c) acme | MIT */"),
            Kind::PemBundle | Kind::Text | Kind::Json => {}
        }
    }

    /// Between the value section and the block section of structured formats.
    fn middle(self, w: &mut W, rng: &mut Rng) {
        match self {
            Kind::GithubActions => w.push(&format!(
                "\njobs:\n  build:\n    runs-on: ubuntu-latest\n    timeout-minutes: {}\n    steps:\n      - uses: actions/checkout@v4\n      - uses: actions/setup-node@v4\n        with:\n          node-version: ${{{{ env.NODE_VERSION }}}}",
                rng.range(10, 60)
            )),
            Kind::DockerCompose => w.push(&format!(
                "    volumes:\n      - ./data:/var/lib/{}\n\nconfigs:",
                rng.pick(SERVICES)
            )),
            _ => {}
        }
    }

    fn close(self, w: &mut W, rng: &mut Rng) {
        match self {
            Kind::Python if rng.chance(0.5) => {
                w.push("\n\nif __name__ == \"__main__\":\n    main()");
            }
            Kind::JavaScript | Kind::TypeScript => {
                w.push(&format!("\nexport default {{ {}{} }};", rng.pick(VERBS), pascal(rng.pick(NOUNS))))
            }
            Kind::Java => w.push("}"),
            Kind::K8sDeployment => w.push(&format!(
                "          resources:\n            limits:\n              cpu: \"{}m\"\n              memory: {}Mi\n          readinessProbe:\n            httpGet:\n              path: /healthz\n              port: http",
                rng.range(1, 10) * 100,
                rng.range(1, 16) * 128
            )),
            Kind::Xml => w.push("</configuration>"),
            Kind::Dockerfile => w.push(&format!(
                "FROM {} \nCOPY --from=build /src/dist /app\nEXPOSE {}\nUSER 10001\nCMD [\"/app/server\"]",
                rng.pick(&["gcr.io/distroless/base-debian12", "alpine:3.20", "debian:bookworm-slim"]),
                rng.pick(&[8080, 3000, 9000])
            )),
            Kind::CiLog => {
                let l = w.log_prefix(rng);
                w.push(&format!("{l}##[endgroup]"));
                let l = w.log_prefix(rng);
                w.push(&format!("{l}Cleaning up orphan processes"));
            }
            Kind::Lockfile => w.push("  }\n}"),
            Kind::Markdown => w.push(&format!("\nSee also [{}](../{}/README.md).", rng.pick(NOUNS), rng.pick(NOUNS))),
            _ => {}
        }
    }

    /// A chunk of realistic filler.
    fn filler(self, w: &mut W, rng: &mut Rng, section: u8) {
        if self == Kind::CiLog {
            for _ in 0..rng.range(2, 8) {
                let l = w.log_prefix(rng);
                w.push(&format!("{l}{}", log_filler(rng)));
            }
            return;
        }
        let text = match self {
            Kind::Python => py_filler(rng),
            Kind::JavaScript => js_filler(rng, false),
            Kind::TypeScript => js_filler(rng, true),
            Kind::Go => go_filler(rng),
            Kind::Java => java_filler(rng),
            Kind::K8sDeployment => format!(
                "            - name: {}\n              value: \"{}\"",
                upper(format!("{}_{}", rng.pick(NOUNS), rng.pick(SETTINGS))),
                setting_value(rng)
            ),
            Kind::K8sConfigMap | Kind::K8sSecret => {
                let v = setting_value(rng);
                let v = if self == Kind::K8sSecret { b64(v.as_bytes()) } else { format!("\"{v}\"") };
                format!("  {}-{}: {v}", rng.pick(NOUNS), rng.pick(SETTINGS))
            }
            Kind::GithubActions => {
                if section == 0 {
                    format!("  {}_{}: {}", upper(rng.pick(NOUNS)), upper(rng.pick(SETTINGS)), setting_value(rng))
                } else {
                    format!(
                        "      - name: {} {}\n        run: {}",
                        cap(rng.pick(VERBS)),
                        rng.pick(NOUNS),
                        rng.pick(&["npm ci", "npm test -- --ci", "make lint", "go test ./...", "pytest -q", "./gradlew build"])
                    )
                }
            }
            Kind::DockerCompose if section == 1 => String::new(),
            Kind::DockerCompose => format!(
                "      - {}_{}={}",
                upper(rng.pick(NOUNS)),
                upper(rng.pick(SETTINGS)),
                setting_value(rng)
            ),
            Kind::DotEnv => env_filler_line(rng),
            Kind::Dockerfile => (*rng.pick(&[
                "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/*",
                "COPY package.json package-lock.json ./",
                "RUN npm ci --omit=dev",
                "COPY . .",
                "RUN make build",
                "ENV PYTHONDONTWRITEBYTECODE=1",
                "RUN pip install --no-cache-dir -r requirements.txt",
                "LABEL org.opencontainers.image.source=\"https://github.com/acme/app\"",
                "RUN go build -trimpath -ldflags=\"-s -w\" -o /out/server ./cmd/server",
            ]))
            .to_string(),
            Kind::Shell => sh_filler(rng),
            Kind::Xml => {
                let tag = camel(format!("{}_{}", rng.pick(NOUNS), rng.pick(SETTINGS)));
                format!("  <{tag}>{}</{tag}>", setting_value(rng))
            }
            Kind::Ini => {
                if rng.chance(0.2) {
                    format!("\n[{}]", rng.pick(NOUNS))
                } else {
                    format!("{}_{} = {}", rng.pick(NOUNS), rng.pick(SETTINGS), setting_value(rng))
                }
            }
            Kind::Properties => format!(
                "{}.{}.{}={}",
                rng.pick(&["app", "spring.jpa", "server", "management", "logging.level"]),
                rng.pick(NOUNS),
                rng.pick(SETTINGS).replace('_', "-"),
                setting_value(rng)
            ),
            Kind::Toml => {
                if rng.chance(0.2) {
                    format!("\n[{}.{}]", rng.pick(NOUNS), rng.pick(NOUNS))
                } else {
                    format!("{}_{} = \"{}\"", rng.pick(NOUNS), rng.pick(SETTINGS), setting_value(rng))
                }
            }
            Kind::Markdown => md_filler(rng),
            Kind::Terraform => tf_filler(rng),
            Kind::Lockfile => lock_entry(rng, None).0,
            Kind::MinifiedJs => minified_line(rng),
            Kind::PemBundle => String::new(),
            Kind::Text => format!("{} {} {}.", cap(rng.pick(VERBS)), rng.pick(NOUNS), rng.pick(NOUNS)),
            Kind::Json | Kind::CiLog => String::new(),
        };
        if !text.is_empty() {
            w.push(&text);
        }
    }

    /// Writes one planted shape; returns its (first, labelled, last) lines.
    fn put(self, w: &mut W, rng: &mut Rng, shape: &Shape) -> (u64, u64, u64) {
        match shape {
            Shape::Line { text } => {
                if self == Kind::CiLog {
                    let start = w.next_line();
                    for l in text.split('\n') {
                        let p = w.log_prefix(rng);
                        w.push(&format!("{p}{l}"));
                    }
                    return (start, start, w.line);
                }
                if self == Kind::Go && text.starts_with('\t') {
                    w.push(&format!(
                        "\nfunc {}{}() {{",
                        rng.pick(VERBS),
                        pascal(rng.pick(NOUNS))
                    ));
                    let start = w.next_line();
                    w.push(text);
                    let end = w.line;
                    w.push("}");
                    return (start, start, end);
                }
                let start = w.next_line();
                w.push(text);
                (start, start, w.line)
            }
            Shape::Value { key, value } if self == Kind::CiLog => {
                let p = w.log_prefix(rng);
                let text = match rng.below(3) {
                    0 => format!("{p}{key}={value}"),
                    1 => format!("{p}  {key}: {value}"),
                    _ => format!("{p}[debug] using {}={value}", snake(key)),
                };
                let start = w.next_line();
                w.push(&text);
                (start, start, start)
            }
            Shape::Value { key, value } => {
                let (text, offset) = self.value_text(rng, key, value);
                let start = w.next_line() + offset;
                w.push(&text);
                (start, start, start)
            }
            Shape::Block { text, secret_line } => self.block(w, rng, text, *secret_line),
        }
    }

    /// A key/value in this format; returns the text and the line (0-based) of the value.
    fn value_text(self, rng: &mut Rng, key: &str, v: &str) -> (String, u64) {
        let k = key;
        let s = snake(k);
        let c = camel(k);
        let d = s.replace('_', ".");
        let one = |t: String| (t, 0);
        match self {
            Kind::Python => match rng.below(4) {
                0 => one(format!("{k} = \"{v}\"")),
                1 => one(format!("os.environ.setdefault(\"{k}\", \"{v}\")")),
                2 => (
                    format!(
                        "DEFAULTS = {{\n    \"{s}\": \"{v}\",\n    \"timeout\": {},\n}}",
                        rng.range(5, 120)
                    ),
                    1,
                ),
                _ => one(format!(
                    "client = {}Client({s}=\"{v}\", retries={})",
                    pascal(rng.pick(NOUNS)),
                    rng.range(1, 5)
                )),
            },
            Kind::JavaScript | Kind::TypeScript => match rng.below(4) {
                0 => one(format!("const {c} = \"{v}\";")),
                1 => one(format!("export const {k} = '{v}';")),
                2 => (
                    format!(
                        "const config = {{\n  {c}: \"{v}\",\n  timeout: {},\n}};",
                        rng.range(1, 60) * 1000
                    ),
                    1,
                ),
                _ => one(format!("process.env.{k} = process.env.{k} || \"{v}\";")),
            },
            Kind::Go => match rng.below(3) {
                0 => one(format!("const {c} = \"{v}\"")),
                1 => (
                    format!(
                        "var defaultConfig = Config{{\n\t{}: \"{v}\",\n\tTimeout: {} * time.Second,\n}}",
                        pascal(&s),
                        rng.range(1, 60)
                    ),
                    1,
                ),
                _ => (
                    format!("func init() {{\n\tos.Setenv(\"{k}\", \"{v}\")\n}}"),
                    1,
                ),
            },
            Kind::Java => match rng.below(2) {
                0 => one(format!("    private static final String {k} = \"{v}\";")),
                _ => one(format!(
                    "    @Value(\"${{{d}:{v}}}\")\n    private String {c};"
                )),
            },
            Kind::K8sDeployment => (
                format!(
                    "            - name: {k}\n              value: {}",
                    yaml_scalar(v)
                ),
                1,
            ),
            Kind::K8sConfigMap => one(format!("  {}: {}", s.replace('_', "-"), yaml_scalar(v))),
            Kind::K8sSecret => one(format!("  {k}: {v}")),
            Kind::GithubActions => one(format!("  {k}: {}", yaml_scalar(v))),
            Kind::DockerCompose => one(format!("      - {k}={v}")),
            Kind::DotEnv => match rng.below(3) {
                0 => one(format!("{k}={v}")),
                1 => one(format!("{k}=\"{v}\"")),
                _ => one(format!("export {k}={v}")),
            },
            Kind::Dockerfile => match rng.below(2) {
                0 => one(format!("ENV {k}={v}")),
                _ => one(format!("ARG {k}=\"{v}\"")),
            },
            Kind::Shell => match rng.below(3) {
                0 => one(format!("export {k}=\"{v}\"")),
                1 => one(format!("{k}='{v}'")),
                _ => one(format!("{}_{}() {{ echo \"{v}\"; }}", rng.pick(VERBS), s)),
            },
            Kind::Xml => {
                let inner = if v.contains(['&', '<', '>']) {
                    format!("<![CDATA[{v}]]>")
                } else {
                    v.to_string()
                };
                match rng.below(2) {
                    0 => one(format!("  <{c}>{inner}</{c}>")),
                    _ if inner == v => one(format!("  <property name=\"{d}\" value=\"{v}\"/>")),
                    _ => one(format!("  <entry key=\"{d}\">{inner}</entry>")),
                }
            }
            Kind::Ini => one(format!("{s} = {v}")),
            Kind::Properties => one(format!("app.{d}={v}")),
            Kind::Toml => one(format!("{s} = \"{v}\"")),
            Kind::Markdown => match rng.below(2) {
                0 => (format!("```bash\nexport {k}={v}\n```"), 1),
                _ => one(format!(
                    "Set `{k}` to `{v}` before running the {} job.",
                    rng.pick(NOUNS)
                )),
            },
            Kind::CiLog => one(format!("{k}={v}")),
            Kind::Terraform => (format!("locals {{\n  {s} = \"{v}\"\n}}"), 1),
            Kind::Lockfile => {
                let (t, off) = lock_entry(rng, Some(v));
                (t, off)
            }
            Kind::Json | Kind::MinifiedJs | Kind::PemBundle => one(format!("{k}={v}")),
            Kind::Text => one(format!("{k}: {v}")),
        }
    }

    /// Writes a raw block; returns (first line of the text, line of the labelled content,
    /// last line of the text).
    fn block(self, w: &mut W, rng: &mut Rng, text: &str, secret_line: usize) -> (u64, u64, u64) {
        let name = upper(format!(
            "{}_{}",
            rng.pick(NOUNS),
            rng.pick(&["TEMPLATE", "FIXTURE", "SAMPLE", "CONFIG"])
        ));
        let nl = text.matches('\n').count() as u64;
        let wrap = |w: &mut W, before: &str, indent: &str, after: &str| -> (u64, u64, u64) {
            if !before.is_empty() {
                w.push(before);
            }
            let first = w.next_line();
            for l in text.split('\n') {
                if l.is_empty() {
                    w.push("");
                } else {
                    w.push(&format!("{indent}{l}"));
                }
            }
            if !after.is_empty() {
                w.push(after);
            }
            (first, first + secret_line as u64, first + nl)
        };
        match self {
            Kind::Python => {
                if !text.contains("\"\"\"") && rng.chance(0.7) {
                    wrap(w, &format!("{name} = \"\"\""), "", "\"\"\"")
                } else {
                    wrap(w, "", "# ", "")
                }
            }
            Kind::JavaScript | Kind::TypeScript => {
                if !text.contains('`') && !text.contains("${") && rng.chance(0.6) {
                    wrap(w, &format!("const {} = `", camel(&name)), "", "`;")
                } else if !text.contains("*/") {
                    wrap(w, "/*", "", "*/")
                } else {
                    wrap(w, "", "// ", "")
                }
            }
            Kind::Go => {
                if !text.contains('`') {
                    wrap(w, &format!("var {} = `", camel(&name)), "", "`")
                } else {
                    wrap(w, "", "// ", "")
                }
            }
            Kind::Java => {
                if !text.contains("\"\"\"") && !text.contains('\\') {
                    wrap(
                        w,
                        &format!("    private static final String {name} = \"\"\""),
                        "",
                        "\"\"\";",
                    )
                } else {
                    wrap(w, "", "    // ", "")
                }
            }
            Kind::K8sConfigMap => wrap(w, &format!("  {}.conf: |", rng.pick(NOUNS)), "    ", ""),
            Kind::GithubActions => wrap(
                w,
                &format!(
                    "      - name: Write {} config\n        run: |",
                    rng.pick(NOUNS)
                ),
                "          ",
                "",
            ),
            Kind::DockerCompose => wrap(
                w,
                &format!("  {}_config:\n    content: |", rng.pick(NOUNS)),
                "      ",
                "",
            ),
            Kind::DotEnv => {
                if text.contains('\n') {
                    wrap(w, &format!("{name}='"), "", "'")
                } else {
                    wrap(w, "", "", "")
                }
            }
            Kind::Dockerfile => wrap(
                w,
                &format!(
                    "RUN cat > /etc/{}/{}.conf <<'EOF'",
                    rng.pick(SERVICES),
                    rng.pick(NOUNS)
                ),
                "",
                "EOF",
            ),
            Kind::Shell => {
                if rng.chance(0.7) {
                    wrap(
                        w,
                        &format!("cat > \"${{CONFIG_DIR}}/{}.conf\" <<'EOF'", rng.pick(NOUNS)),
                        "",
                        "EOF",
                    )
                } else {
                    wrap(w, "", "# ", "")
                }
            }
            Kind::Xml => wrap(
                w,
                &format!("  <{}><![CDATA[", camel(&name)),
                "",
                &format!("]]></{}>", camel(&name)),
            ),
            Kind::Ini | Kind::Properties | Kind::Text | Kind::PemBundle => wrap(w, "", "", ""),
            Kind::Toml => wrap(w, &format!("{} = '''", snake(&name)), "", "'''"),
            Kind::Markdown => wrap(
                w,
                &format!("```{}", rng.pick(&["bash", "ini", "yaml", "text", ""])),
                "",
                "```",
            ),
            Kind::CiLog => {
                let first = w.next_line();
                for l in text.split('\n') {
                    let p = w.log_prefix(rng);
                    w.push(&format!("{p}{l}"));
                }
                (first, first + secret_line as u64, first + nl)
            }
            Kind::Terraform => wrap(
                w,
                &format!("locals {{\n  {} = <<-EOT", snake(&name)),
                "",
                "EOT\n}",
            ),
            Kind::Json
            | Kind::K8sDeployment
            | Kind::K8sSecret
            | Kind::Lockfile
            | Kind::MinifiedJs => wrap(w, "", "", ""),
        }
    }
}

/// JSON: a valid object whose members are filler and the planted values.
fn render_json(rng: &mut Rng, shapes: &[&Shape]) -> Rendered {
    let mut members: Vec<(String, Option<usize>)> = Vec::new();
    let mut order: Vec<usize> = (0..shapes.len()).collect();
    rng.shuffle(&mut order);
    for i in order {
        for _ in 0..rng.range(1, 4) {
            members.push((json_filler(rng), None));
        }
        let m = match shapes[i] {
            Shape::Value { key, value } => format!(
                "  \"{}\": \"{value}\"",
                if key == "auth" {
                    key.clone()
                } else {
                    camel(key)
                }
            ),
            Shape::Block { text, .. } => format!(
                "  \"{}\": \"{text}\"",
                rng.pick(&["description", "example", "note", "template"])
            ),
            Shape::Line { text } => text.clone(),
        };
        members.push((m, Some(i)));
    }
    members.push((json_filler(rng), None));
    let mut w = W::default();
    let mut lines = vec![(0, 0, 0); shapes.len()];
    w.push("{");
    let n = members.len();
    for (j, (m, idx)) in members.into_iter().enumerate() {
        let start = w.next_line();
        let sep = if j + 1 < n { "," } else { "" };
        w.push(&format!("{m}{sep}"));
        if let Some(i) = idx {
            lines[i] = (start, start, start);
        }
    }
    w.push("}");
    Rendered {
        content: w.out,
        lines,
    }
}

/// Line writer.
#[derive(Default)]
struct W {
    out: String,
    line: u64,
    ts: u64,
}

impl W {
    fn push(&mut self, s: &str) {
        for l in s.split('\n') {
            self.out.push_str(l);
            self.out.push('\n');
            self.line += 1;
        }
    }

    fn next_line(&self) -> u64 {
        self.line + 1
    }

    /// A GitHub Actions log timestamp, advancing.
    fn log_prefix(&mut self, rng: &mut Rng) -> String {
        self.ts += rng.below(3) as u64;
        let t = self.ts;
        let (days, secs) = (t / 86_400, t % 86_400);
        // Civil date from days since the epoch (Howard Hinnant's algorithm).
        let z = days as i64 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:07}Z ",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            rng.below(10_000_000)
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary and names
// ---------------------------------------------------------------------------------------------

pub const NOUNS: &[&str] = &[
    "user",
    "order",
    "invoice",
    "session",
    "cache",
    "request",
    "response",
    "payload",
    "metric",
    "event",
    "queue",
    "worker",
    "account",
    "profile",
    "report",
    "item",
    "product",
    "cart",
    "payment",
    "shipment",
    "record",
    "batch",
    "job",
    "task",
    "message",
    "channel",
    "client",
    "bucket",
    "table",
    "schema",
    "tenant",
    "region",
    "cluster",
    "node",
    "release",
    "artifact",
    "pipeline",
    "widget",
    "document",
    "page",
    "comment",
    "thread",
    "upload",
    "image",
    "feature",
    "experiment",
    "subscription",
    "plan",
    "coupon",
    "address",
    "contact",
    "team",
    "project",
    "branch",
    "ticket",
    "catalog",
    "ledger",
    "webhook",
    "notification",
    "search",
    "export",
];
const VERBS: &[&str] = &[
    "get",
    "load",
    "parse",
    "build",
    "fetch",
    "update",
    "validate",
    "render",
    "compute",
    "merge",
    "flush",
    "sync",
    "handle",
    "process",
    "encode",
    "decode",
    "resolve",
    "register",
    "create",
    "delete",
    "list",
    "find",
    "save",
    "apply",
    "normalize",
    "format",
    "publish",
    "retry",
    "schedule",
    "cancel",
    "refresh",
    "prune",
    "collect",
];
const SUFFIXES: &[&str] = &[
    "Service",
    "Repository",
    "Handler",
    "Client",
    "Manager",
    "Store",
    "Factory",
    "Mapper",
];
const SERVICES: &[&str] = &[
    "billing",
    "checkout",
    "inventory",
    "search",
    "auth",
    "gateway",
    "notifications",
    "ledger",
    "catalog",
    "reporting",
    "shipping",
    "accounts",
    "analytics",
    "scheduler",
];
const SETTINGS: &[&str] = &[
    "timeout",
    "retries",
    "pool_size",
    "batch_size",
    "ttl",
    "host",
    "port",
    "region",
    "level",
    "max_items",
    "interval",
    "enabled",
    "path",
    "url",
    "mode",
    "format",
    "workers",
];
const PY_MODULES: &[&str] = &[
    "os",
    "sys",
    "json",
    "logging",
    "time",
    "re",
    "typing",
    "dataclasses",
    "pathlib",
    "datetime",
    "hashlib",
    "itertools",
    "functools",
    "collections",
    "asyncio",
    "uuid",
    "base64",
];
pub const HOSTS: &[&str] = &[
    "api.example.com",
    "internal.example.net",
    "hooks.example.org",
    "staging.example.com",
    "gateway.svc.cluster.local",
];
const REGIONS: &[&str] = &[
    "us-east-1",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
    "us-west-2",
];

/// Key names that say "secret" without naming a provider.
pub const GENERIC_SECRET_KEYS: &[&str] = &[
    "API_KEY",
    "API_TOKEN",
    "ACCESS_TOKEN",
    "AUTH_TOKEN",
    "SECRET",
    "SECRET_KEY",
    "CLIENT_SECRET",
    "PRIVATE_KEY",
    "TOKEN",
    "CREDENTIALS",
    "SERVICE_TOKEN",
    "DEPLOY_KEY",
];
/// Key names for base64 blobs of whole `.env` files.
pub const BLOB_KEYS: &[&str] = &[
    "ENV_FILE",
    "DOTENV_B64",
    "APP_ENV_B64",
    "CONFIG_B64",
    "SECRETS_FILE_B64",
];

/// `github-pat` → `GITHUB_PAT`.
pub fn key_name(rule_id: &str) -> String {
    rule_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn upper(s: impl AsRef<str>) -> String {
    s.as_ref().to_ascii_uppercase()
}

fn snake(s: impl AsRef<str>) -> String {
    s.as_ref().to_ascii_lowercase()
}

fn cap(s: impl AsRef<str>) -> String {
    let mut c = s.as_ref().chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

fn pascal(s: impl AsRef<str>) -> String {
    s.as_ref()
        .split(['_', '-', '.'])
        .filter(|p| !p.is_empty())
        .map(|p| cap(p.to_ascii_lowercase()))
        .collect()
}

fn camel(s: impl AsRef<str>) -> String {
    let p = pascal(s);
    let mut c = p.chars();
    match c.next() {
        Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A YAML scalar, quoted when it needs to be.
fn yaml_scalar(v: &str) -> String {
    let special = v.starts_with([
        '*', '&', '!', '%', '@', '`', '{', '[', '>', '|', '-', '?', '<',
    ]) || v.contains(": ")
        || v.contains(" #")
        || v.contains(['{', '}', '[', ']', ',', '#', '"', '\''])
        || v.ends_with(':');
    if special {
        format!("\"{v}\"")
    } else {
        v.to_string()
    }
}

fn setting_value(rng: &mut Rng) -> String {
    match rng.below(7) {
        0 => rng.range(1, 600).to_string(),
        1 => rng.pick(&["true", "false"]).to_string(),
        2 => format!("https://{}/v{}", rng.pick(HOSTS), rng.range(1, 3)),
        3 => rng
            .pick(&["info", "debug", "warn", "json", "text", "strict", "lenient"])
            .to_string(),
        4 => format!(
            "{}.{}.svc.cluster.local",
            rng.pick(SERVICES),
            rng.pick(&["default", "prod"])
        ),
        5 => rng.pick(REGIONS).to_string(),
        _ => format!("/var/lib/{}/{}", rng.pick(SERVICES), rng.pick(NOUNS)),
    }
}

/// One harmless `.env` line.
pub fn env_filler_line(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => format!("# {} settings", rng.pick(NOUNS)),
        _ => format!(
            "{}_{}={}",
            upper(rng.pick(NOUNS)),
            upper(rng.pick(SETTINGS)),
            setting_value(rng)
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Filler code
// ---------------------------------------------------------------------------------------------

fn py_filler(rng: &mut Rng) -> String {
    let n = *rng.pick(NOUNS);
    let n2 = *rng.pick(NOUNS);
    let v = *rng.pick(VERBS);
    match rng.below(6) {
        0 => format!(
            "\n{}_{} = {}",
            upper(rng.pick(&["max", "default", "min"])),
            upper(rng.pick(SETTINGS)),
            rng.range(1, 500)
        ),
        1 => format!(
            "\n\ndef {v}_{n}({n}_id: int, *, timeout: float = {}.0) -> dict:\n    \"\"\"{} the {n} and return its {n2}s.\"\"\"\n    {n} = repository.get({n}_id, timeout=timeout)\n    if {n} is None:\n        raise LookupError(f\"{n} {{{n}_id}} not found\")\n    logger.debug(\"{v} %s\", {n}_id)\n    return {{\"id\": {n}.id, \"{n2}s\": [x.to_dict() for x in {n}.{n2}s]}}",
            rng.range(1, 30),
            cap(v)
        ),
        2 => format!(
            "\n\nclass {}{}:\n    def __init__(self, {n2}_repo, cache=None):\n        self._{n2}_repo = {n2}_repo\n        self._cache = cache or {{}}\n\n    def {v}(self, key):\n        if key in self._cache:\n            return self._cache[key]\n        value = self._{n2}_repo.find(key)\n        self._cache[key] = value\n        return value",
            pascal(n),
            rng.pick(SUFFIXES)
        ),
        3 => format!("logger.info(\"{v} %d {n}s in %.2fs\", len({n}s), elapsed)"),
        4 => format!("for {n} in {n2}.{n}s:\n    {n}.{v}()"),
        _ => format!("# TODO: {v} {n2}s in batches of {}", rng.range(10, 1000)),
    }
}

fn js_filler(rng: &mut Rng, ts: bool) -> String {
    let n = *rng.pick(NOUNS);
    let n2 = *rng.pick(NOUNS);
    let v = *rng.pick(VERBS);
    let ty = |t: &str| if ts { format!(": {t}") } else { String::new() };
    match rng.below(5) {
        0 => format!(
            "\nexport async function {v}{}({n}Id{}){} {{\n  const res = await fetch(`${{BASE_URL}}/{n}s/${{{n}Id}}`);\n  if (!res.ok) {{\n    throw new Error(`{v} {n} failed: ${{res.status}}`);\n  }}\n  return res.json();\n}}",
            pascal(n),
            ty("string"),
            if ts {
                format!(": Promise<{}>", pascal(n))
            } else {
                String::new()
            }
        ),
        1 => format!(
            "const {}{} = {};",
            camel(format!("max_{}", rng.pick(SETTINGS))),
            ty("number"),
            rng.range(1, 1000)
        ),
        2 => format!("\nconst {n2}s = {n}s.filter((x) => x.active).map((x) => x.{n2}Id);"),
        3 => format!("// {} {n2}s lazily; see {}.md", cap(v), rng.pick(NOUNS)),
        _ => format!(
            "\nexport class {}{} {{\n  constructor(private readonly {n2}s{}) {{}}\n\n  {v}(id{}) {{\n    return this.{n2}s.get(id) ?? null;\n  }}\n}}",
            pascal(n),
            rng.pick(SUFFIXES),
            ty("Map<string, unknown>"),
            ty("string")
        ),
    }
}

fn go_filler(rng: &mut Rng) -> String {
    let n = *rng.pick(NOUNS);
    let v = *rng.pick(VERBS);
    match rng.below(4) {
        0 => format!(
            "\n// {}{} {v}s the {n} identified by id.\nfunc {}{}(ctx context.Context, id string) error {{\n\tctx, cancel := context.WithTimeout(ctx, {} * time.Second)\n\tdefer cancel()\n\treq, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf(\"%s/{n}s/%s\", baseURL, id), nil)\n\tif err != nil {{\n\t\treturn fmt.Errorf(\"{v} {n}: %w\", err)\n\t}}\n\t_ = req\n\treturn nil\n}}",
            cap(v),
            pascal(n),
            cap(v),
            pascal(n),
            rng.range(1, 30)
        ),
        1 => format!(
            "\ntype {} struct {{\n\tID        string\n\tCreatedAt time.Time\n\t{}s    []string\n}}",
            pascal(n),
            pascal(rng.pick(NOUNS))
        ),
        2 => format!(
            "\nconst max{} = {}",
            pascal(rng.pick(SETTINGS)),
            rng.range(1, 512)
        ),
        _ => format!(
            "\nvar baseURL = \"https://{}/v{}\"",
            rng.pick(HOSTS),
            rng.range(1, 3)
        ),
    }
}

fn java_filler(rng: &mut Rng) -> String {
    let n = *rng.pick(NOUNS);
    let v = *rng.pick(VERBS);
    match rng.below(3) {
        0 => format!(
            "\n    public {} {v}{}(String id) {{\n        var {n} = repository.findById(id).orElseThrow();\n        log.debug(\"{v} {{}}\", id);\n        return {n};\n    }}",
            pascal(n),
            pascal(n)
        ),
        1 => format!(
            "    private static final int MAX_{} = {};",
            upper(rng.pick(SETTINGS)),
            rng.range(1, 1000)
        ),
        _ => format!(
            "    private final Map<String, {}> {n}Cache = new ConcurrentHashMap<>();",
            pascal(n)
        ),
    }
}

fn sh_filler(rng: &mut Rng) -> String {
    let n = *rng.pick(NOUNS);
    let v = *rng.pick(VERBS);
    match rng.below(4) {
        0 => format!(
            "\n{v}_{n}() {{\n  local target=\"$1\"\n  echo \"{v} ${{target}}\" >&2\n  \"${{TOOL:-./bin/{n}ctl}}\" {v} --target \"$target\"\n}}"
        ),
        1 => format!(
            "if [[ -z \"${{{}_DIR:-}}\" ]]; then\n  {}_DIR=\"/var/lib/{n}\"\nfi",
            upper(n),
            upper(n)
        ),
        2 => format!(
            "for f in ./{n}s/*.json; do\n  jq -e '.{v}' \"$f\" > /dev/null || echo \"skip $f\"\ndone"
        ),
        _ => format!(
            "curl -fsS --retry 3 \"https://{}/healthz\" > /dev/null",
            rng.pick(HOSTS)
        ),
    }
}

fn md_filler(rng: &mut Rng) -> String {
    let n = *rng.pick(NOUNS);
    match rng.below(4) {
        0 => format!("\n## {} {n}s\n", cap(rng.pick(VERBS))),
        1 => format!(
            "The {n} {} runs every {} minutes and {}s stale {}s.",
            rng.pick(&["job", "worker", "task"]),
            rng.range(1, 60),
            rng.pick(VERBS),
            rng.pick(NOUNS)
        ),
        2 => format!(
            "- `{}` — {} the {n}\n- `{}` — {} the {}",
            rng.pick(VERBS),
            rng.pick(VERBS),
            rng.pick(VERBS),
            rng.pick(VERBS),
            rng.pick(NOUNS)
        ),
        _ => format!(
            "```bash\nmake {} && ./bin/{n}ctl {} --dry-run\n```",
            rng.pick(VERBS),
            rng.pick(VERBS)
        ),
    }
}

fn log_filler(rng: &mut Rng) -> String {
    let n = *rng.pick(NOUNS);
    match rng.below(8) {
        0 => format!(
            "added {} packages, and audited {} packages in {}s",
            rng.range(100, 2000),
            rng.range(100, 2000),
            rng.range(2, 90)
        ),
        1 => format!(
            "PASS src/{n}/{n}.test.ts ({}.{} s)",
            rng.range(0, 9),
            rng.range(0, 999)
        ),
        2 => format!(
            "[INFO] {} {n}s: {} ok, 0 failed",
            cap(rng.pick(VERBS)),
            rng.range(1, 400)
        ),
        3 => format!(
            "Downloading https://registry.example.com/{n}/-/{n}-{}.{}.{}.tgz",
            rng.range(0, 9),
            rng.range(0, 20),
            rng.range(0, 9)
        ),
        4 => format!(
            "##[warning]Node.js {} actions are deprecated.",
            rng.pick(&["16", "18"])
        ),
        5 => format!(
            "Step {}/{} : RUN make {}",
            rng.range(1, 9),
            rng.range(9, 14),
            rng.pick(VERBS)
        ),
        6 => format!(
            "ok  \tgithub.com/acme/{}/internal/{n}\t{}.{}s",
            rng.pick(SERVICES),
            rng.range(0, 9),
            rng.range(100, 999)
        ),
        _ => format!(
            "   Compiling {n} v0.{}.{}",
            rng.range(1, 30),
            rng.range(0, 9)
        ),
    }
}

fn tf_filler(rng: &mut Rng) -> String {
    let n = *rng.pick(NOUNS);
    match rng.below(3) {
        0 => format!(
            "\nresource \"aws_s3_bucket\" \"{n}\" {{\n  bucket = \"acme-{}-{n}s\"\n  tags = {{\n    Team = \"{}\"\n  }}\n}}",
            rng.pick(SERVICES),
            rng.pick(SERVICES)
        ),
        1 => format!(
            "\nvariable \"{n}_{}\" {{\n  type    = number\n  default = {}\n}}",
            rng.pick(SETTINGS),
            rng.range(1, 100)
        ),
        _ => format!(
            "\nmodule \"{n}\" {{\n  source  = \"terraform-aws-modules/{n}/aws\"\n  version = \"~> {}.{}\"\n}}",
            rng.range(1, 6),
            rng.range(0, 9)
        ),
    }
}

fn json_filler(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("  \"{}\": {}", camel(rng.pick(SETTINGS)), rng.range(1, 500)),
        1 => format!(
            "  \"{}\": \"{}\"",
            camel(format!("{}_{}", rng.pick(NOUNS), rng.pick(SETTINGS))),
            setting_value(rng)
        ),
        2 => format!(
            "  \"{}\": {{ \"enabled\": {}, \"level\": \"{}\" }}",
            rng.pick(NOUNS),
            rng.pick(&["true", "false"]),
            rng.pick(&["info", "debug"])
        ),
        _ => format!(
            "  \"{}s\": [\"{}\", \"{}\"]",
            rng.pick(NOUNS),
            rng.pick(REGIONS),
            rng.pick(REGIONS)
        ),
    }
}

/// A package-lock entry; with `integrity`, that value is used. Returns text and the line
/// (0-based) of the integrity field.
fn lock_entry(rng: &mut Rng, integrity: Option<&str>) -> (String, u64) {
    let pkg = format!(
        "{}-{}",
        rng.pick(NOUNS),
        rng.pick(&["utils", "core", "parser", "js", "kit"])
    );
    let ver = format!(
        "{}.{}.{}",
        rng.range(0, 9),
        rng.range(0, 30),
        rng.range(0, 20)
    );
    let integ = integrity.map_or_else(|| format!("sha512-{}", b64(&rng.bytes(64))), str::to_string);
    (
        format!(
            "    \"node_modules/{pkg}\": {{\n      \"version\": \"{ver}\",\n      \"resolved\": \"https://registry.npmjs.org/{pkg}/-/{pkg}-{ver}.tgz\",\n      \"integrity\": \"{integ}\",\n      \"license\": \"MIT\"\n    }},"
        ),
        3,
    )
}

/// A minified-JavaScript-like line with keyword-laden identifiers and opaque strings.
fn minified_line(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.range(8, 20) {
        let a = rng.string(b"abcdefghijklmnopqrstuvwxyz", 1);
        let b = rng.string(b"abcdefghijklmnopqrstuvwxyz", 1);
        let piece = match rng.below(8) {
            0 => format!("function {a}({b},t){{return {b}.token||t.apiKey||null}}"),
            1 => {
                let n = rng.range(6, 14);
                format!(
                    "var {a}=\"{}\";",
                    rng.string(b"abcdefghijklmnopqrstuvwxyz0123456789", n)
                )
            }
            2 => format!(
                "{a}.prototype.setPassword=function({b}){{this._password={b};return this}};"
            ),
            3 => format!("{a}[\"secretKey\"]={b}.get(\"secret_key\");"),
            4 => {
                let n = rng.range(16, 24);
                format!(
                    "const {a}=\"{}\";",
                    rng.string(
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$",
                        n
                    )
                )
            }
            5 => format!("{a}.headers.Authorization=\"Bearer \"+{b}.accessToken;"),
            6 => format!("if(!{a}.key)throw new Error(\"missing key\");"),
            _ => format!(
                "{a}=function(){{return{{x:{},y:{}}}}};",
                rng.range(0, 999),
                rng.range(0, 999)
            ),
        };
        s.push_str(&piece);
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Hard negatives
// ---------------------------------------------------------------------------------------------

const PLACEHOLDERS: &[&str] = &[
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "${K}",
    "${K:-}",
    "$K",
    "<your-token>",
    "<YOUR_API_KEY>",
    "<insert-secret-here>",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "XXXXXXXXXXXXXXXXXXXXXXXX",
    "changeme",
    "CHANGE_ME",
    "your-api-key-here",
    "your_secret_here",
    "REPLACE_ME",
    "TODO",
    "********",
    "{{ .Values.secret }}",
    "{{ secret }}",
    "%(password)s",
    "dummy",
    "test",
    "example",
    "null",
    "none",
    "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "sk-...",
    "0000000000000000000000000000000000000000",
    "1234567890abcdef",
    "redacted",
    "[REDACTED]",
];

const SECRET_REFS: &[&str] = &[
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db",
    "projects/acme-prod/secrets/db-password/versions/latest",
    "vault:secret/data/app#token",
    "op://Engineering/GitHub/credential",
    "azurekeyvault://acme-kv.vault.azure.net/secrets/api-key",
    "ssm:/prod/app/api_key",
    "secretsmanager:prod/stripe/api_key",
    "k8s://default/app-secrets/token",
];

/// Safe code that reads secrets from elsewhere, per format (`{KEY}` and `{key}` are filled).
fn env_refs(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Python => &[
            "{key} = os.environ[\"{KEY}\"]",
            "{key} = os.getenv(\"{KEY}\")",
            "{key} = settings.{KEY}",
            "{key} = keyring.get_password(\"acme\", \"{key}\")",
        ],
        Kind::JavaScript | Kind::TypeScript => &[
            "const {key} = process.env.{KEY};",
            "const {key} = process.env[\"{KEY}\"] ?? \"\";",
            "const {key} = await secrets.get(\"{key}\");",
        ],
        Kind::Go => &[
            "\t{key} := os.Getenv(\"{KEY}\")",
            "\t{key}, ok := os.LookupEnv(\"{KEY}\")",
        ],
        Kind::Java => &[
            "    private final String {key} = System.getenv(\"{KEY}\");",
            "    @Value(\"${{key}}\")\n    private String {key};",
        ],
        Kind::Shell => &[
            "export {KEY}=\"${{KEY}:?{KEY} must be set}\"",
            "{KEY}=\"$(cat /run/secrets/{key})\"",
            "curl -fsS -H \"Authorization: Bearer ${{KEY}}\" https://api.example.com/v1/me",
        ],
        Kind::K8sDeployment => &[
            "            - name: {KEY}\n              valueFrom:\n                secretKeyRef:\n                  name: app-secrets\n                  key: {key}",
        ],
        Kind::GithubActions => &[
            "  {KEY}: ${{ secrets.{KEY} }}",
            "  {KEY}: ${{ vars.{KEY} }}",
        ],
        Kind::DockerCompose => &[
            "      - {KEY}=${{KEY}}",
            "      - {KEY}_FILE=/run/secrets/{key}",
        ],
        Kind::DotEnv => &["{KEY}=", "{KEY}=${{KEY}}"],
        Kind::Dockerfile => &[
            "ARG {KEY}",
            "RUN --mount=type=secret,id={key} {KEY}=$(cat /run/secrets/{key}) make release",
        ],
        Kind::Terraform => &[
            "  {key} = var.{key}",
            "  {key} = data.vault_generic_secret.app.data[\"{key}\"]",
        ],
        Kind::Properties => &["app.{key}=${{KEY}}"],
        Kind::Xml => &["  <{key}>${env.{KEY}}</{key}>"],
        Kind::Toml => &["{key} = \"${{KEY}}\""],
        Kind::CiLog => &["{KEY}: ***", "Authorization: Bearer ***", "{key}=[MASKED]"],
        _ => &[],
    }
}

/// Keyword-heavy code that holds no secret, per format.
fn keyword_code(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Python => &[
            "password = getpass.getpass(\"Password: \")",
            "token = request.headers.get(\"Authorization\", \"\").removeprefix(\"Bearer \")",
            "secret = client.get_secret_value(SecretId=secret_name)[\"SecretString\"]",
            "if not verify_password(password, user.password_hash):\n    raise PermissionError(\"bad credentials\")",
            "PASSWORD_MIN_LENGTH = 12",
            "TOKEN_URL = \"https://oauth2.example.com/token\"",
            "cache_key = f\"session:{user_id}:v2\"",
            "api_key_header = APIKeyHeader(name=\"X-API-Key\", auto_error=False)",
            "tokenizer = AutoTokenizer.from_pretrained(\"bert-base-uncased\")",
            "secret_name = f\"{env}/db/credentials\"",
        ],
        Kind::JavaScript | Kind::TypeScript => &[
            "const token = req.headers.authorization?.split(\" \")[1];",
            "if (!password || password.length < 12) throw new Error(\"weak password\");",
            "const secretName = `${env}/db/password`;",
            "const apiKeyHeader = \"x-api-key\";",
            "const { accessToken, refreshToken } = await auth.refresh(session);",
            "localStorage.removeItem(\"auth_token\");",
        ],
        Kind::Go => &[
            "\ttoken := r.Header.Get(\"Authorization\")",
            "\tpassword, err := term.ReadPassword(int(os.Stdin.Fd()))",
            "\tsecretKey := []byte(cfg.SecretKey)",
            "\tconst tokenTTL = 15 * time.Minute",
        ],
        Kind::Java => &[
            "    private final PasswordEncoder passwordEncoder;",
            "    private final ApiKeyAuthenticationProvider apiKeyAuthenticationProvider;",
            "    private static final String TOKEN_HEADER = \"Authorization\";",
            "    char[] password = console.readPassword(\"Password: \");",
        ],
        Kind::Shell => &[
            "read -rsp \"Password: \" PASSWORD",
            "TOKEN=\"$(gh auth token)\"",
            "aws secretsmanager get-secret-value --secret-id prod/app/api_key --query SecretString --output text",
            "ssh-keygen -t ed25519 -f ~/.ssh/id_ed25519 -N \"\"",
        ],
        Kind::Markdown => &[
            "Set `GITHUB_TOKEN` to a personal access token with the `repo` scope.",
            "Never commit your API key; store it in the secret manager instead.",
            "| `password` | string | The database password (read from `DB_PASSWORD`). |",
        ],
        Kind::CiLog => &[
            "Secret source: Actions",
            "Prepare workflow directory",
            "[command]/usr/bin/git config --local http.https://github.com/.extraheader AUTHORIZATION: basic ***",
            "Token permissions: contents: read, metadata: read",
        ],
        Kind::DotEnv => &[
            "PASSWORD_MIN_LENGTH=12",
            "TOKEN_TTL_SECONDS=3600",
            "SECRET_ROTATION_DAYS=30",
        ],
        _ => &[],
    }
}

/// Long identifiers (with secret-ish words) and other harmless long names.
const IDENTIFIERS: &[&str] = &[
    "com.acme.security.PasswordResetTokenRepositoryImpl",
    "AbstractRequestContextInterceptorFactoryBean",
    "getUserAccountSettingsV2ByTenantIdAsync",
    "apiKeyAuthenticationProviderConfigurationBuilder",
    "SecretsManagerClientBuilderWithRetryPolicyDefaults",
    "OAuth2AuthorizedClientProviderBuilderCustomizer",
    "io.acme.platform.credentials.TokenExchangeServiceGrpcStub",
];

fn pem_block(rng: &mut Rng, label: &str, prefix: &[u8], len: usize) -> String {
    let mut der = prefix.to_vec();
    der.extend(rng.bytes(len));
    let body = b64(&der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----"));
    s
}

fn public_material(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => pem_block(
            rng,
            "CERTIFICATE",
            &[0x30, 0x82, 0x03, 0x8b, 0x30, 0x82, 0x02, 0x73],
            880,
        ),
        1 => pem_block(
            rng,
            "PUBLIC KEY",
            &[
                0x30, 0x82, 0x01, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                0x01, 0x01, 0x01, 0x05, 0x00,
            ],
            270,
        ),
        2 => pem_block(rng, "PGP PUBLIC KEY BLOCK", &[0x99, 0x01, 0x0d], 260),
        3 => format!(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{} {}@{}",
            &b64(&rng.bytes(33))[..43],
            rng.pick(NOUNS),
            rng.pick(SERVICES)
        ),
        _ => format!(
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ{} deploy@{}",
            b64(&rng.bytes(256)),
            rng.pick(SERVICES)
        ),
    }
}

fn uuid(rng: &mut Rng) -> String {
    let h = rng.hex(32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..]
    )
}

/// `n` hard negatives of each category.
pub(super) fn hard_negatives(rng: &mut Rng, n: usize) -> Vec<Item> {
    let mut out = Vec::new();
    let secretish = |rng: &mut Rng| -> String {
        if rng.chance(0.5) {
            rng.pick(GENERIC_SECRET_KEYS).to_string()
        } else {
            format!(
                "{}_{}",
                upper(rng.pick(&[
                    "GITHUB", "AWS", "STRIPE", "SLACK", "OPENAI", "DB", "SMTP", "NPM", "DOCKER",
                    "SENTRY"
                ])),
                rng.pick(&[
                    "TOKEN",
                    "API_KEY",
                    "SECRET",
                    "PASSWORD",
                    "SECRET_ACCESS_KEY",
                    "AUTH_TOKEN"
                ])
            )
        }
    };
    let value_kinds_gha = [Kind::GithubActions];
    for _ in 0..n {
        // Documented placeholders and templating in place of a value.
        let key = secretish(rng);
        let p = rng
            .pick(PLACEHOLDERS)
            .replace("{K", &format!("{{{key}"))
            .replace("$K", &format!("${key}"));
        out.push(Item::negative(
            Shape::Value {
                key: key.clone(),
                value: p.replace(' ', ""),
            },
            "placeholder",
            "value",
        ));
        let gha = format!("${{{{ secrets.{key} }}}}");
        out.push(
            Item::negative(
                Shape::Value {
                    key: key.clone(),
                    value: gha.replace(' ', ""),
                },
                "placeholder",
                "value",
            )
            .only(&value_kinds_gha),
        );
        // References to a secret store.
        out.push(Item::negative(
            Shape::Value {
                key: secretish(rng),
                value: rng.pick(SECRET_REFS).to_string(),
            },
            "secret-ref",
            "value",
        ));
        // Environment references and keyword-heavy code, in the formats they belong to.
        let kinds: Vec<Kind> = Kind::ALL
            .iter()
            .copied()
            .filter(|k| !env_refs(*k).is_empty())
            .collect();
        let k = *rng.pick(&kinds);
        let key = secretish(rng);
        let line = rng
            .pick(env_refs(k))
            .replace("{KEY}", &key)
            .replace("{key}", &snake(&key));
        out.push(Item::negative(Shape::Line { text: line }, "env-ref", "line").only(&[k]));
        let kinds: Vec<Kind> = Kind::ALL
            .iter()
            .copied()
            .filter(|k| !keyword_code(*k).is_empty())
            .collect();
        let k = *rng.pick(&kinds);
        out.push(
            Item::negative(
                Shape::Line {
                    text: rng.pick(keyword_code(k)).to_string(),
                },
                "keyword-code",
                "line",
            )
            .only(&[k]),
        );
        // Hashes and ids next to keys.
        let key = rng
            .pick(&[
                "GIT_COMMIT",
                "commit",
                "revision",
                "sha",
                "BUILD_SHA",
                "last_commit",
                "parent",
            ])
            .to_string();
        out.push(Item::negative(
            Shape::Value {
                key,
                value: rng.hex(40),
            },
            "git-sha",
            "value",
        ));
        let (key, value) = match rng.below(3) {
            0 => (
                "image".to_string(),
                format!(
                    "registry.example.com/{}@sha256:{}",
                    rng.pick(SERVICES),
                    rng.hex(64)
                ),
            ),
            1 => (
                rng.pick(&["checksum", "digest", "content_hash", "etag", "cache_key"])
                    .to_string(),
                format!("sha256:{}", rng.hex(64)),
            ),
            _ => (
                rng.pick(&["SHA256SUM", "expected_sha256", "tarball_sha"])
                    .to_string(),
                rng.hex(64),
            ),
        };
        out.push(Item::negative(
            Shape::Value { key, value },
            "digest",
            "value",
        ));
        let key = rng
            .pick(&[
                "request_id",
                "tenant_id",
                "correlation_id",
                "trace_id",
                "installation_id",
                "project_id",
                "client_id",
            ])
            .to_string();
        out.push(Item::negative(
            Shape::Value {
                key,
                value: uuid(rng),
            },
            "uuid",
            "value",
        ));
        // Lockfile integrity.
        out.push(
            Item::negative(
                Shape::Value {
                    key: "integrity".into(),
                    value: format!("sha512-{}", b64(&rng.bytes(64))),
                },
                "integrity",
                "value",
            )
            .only(&[Kind::Lockfile]),
        );
        // Public keys and certificates.
        let text = public_material(rng);
        out.push(
            Item::negative(
                Shape::Block {
                    text,
                    secret_line: 0,
                },
                "public-key",
                "block",
            )
            .only(&[
                Kind::PemBundle,
                Kind::K8sConfigMap,
                Kind::Markdown,
                Kind::Shell,
                Kind::Python,
                Kind::Text,
            ]),
        );
        // Long identifiers.
        let key = rng
            .pick(&["handler", "class_name", "bean", "provider", "impl"])
            .to_string();
        out.push(Item::negative(
            Shape::Value {
                key,
                value: rng.pick(IDENTIFIERS).to_string(),
            },
            "identifier",
            "value",
        ));
        // Minified JavaScript.
        out.push(
            Item::negative(
                Shape::Line {
                    text: minified_line(rng),
                },
                "minified",
                "line",
            )
            .only(&[Kind::MinifiedJs]),
        );
        // Data URIs (opaque base64 next to a key).
        let key = rng.pick(&["icon", "logo", "avatar", "favicon"]).to_string();
        let mut png = vec![
            0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R',
        ];
        let n = rng.range(60, 200);
        png.extend(rng.bytes(n));
        out.push(Item::negative(
            Shape::Value {
                key,
                value: format!("data:image/png;base64,{}", b64(&png)),
            },
            "data-uri",
            "value",
        ));
        // URLs with no credentials, or templated ones.
        let url = match rng.below(4) {
            0 => format!(
                "postgres://{}.internal:5432/{}",
                rng.pick(SERVICES),
                rng.pick(NOUNS)
            ),
            1 => format!(
                "postgres://app:${{DB_PASSWORD}}@db:5432/{}",
                rng.pick(SERVICES)
            ),
            2 => format!("https://{}/oauth/token", rng.pick(HOSTS)),
            _ => format!(
                "redis://:${{REDIS_PASSWORD}}@redis:6379/{}",
                rng.range(0, 15)
            ),
        };
        out.push(Item::negative(
            Shape::Value {
                key: rng
                    .pick(&["DATABASE_URL", "REDIS_URL", "TOKEN_URL", "BROKER_URL"])
                    .to_string(),
                value: url,
            },
            "url-no-creds",
            "value",
        ));
    }
    out
}
