//! Categories 7 and 8: Docker registry credentials; credentials in command lines, headers and dumps.
//!
//! - 7: a Docker client config's `auth` (base64 of `user:password`) wherever it stands in its
//!   object (first, middle, last; pretty and compact; `kubectl create secret docker-registry`
//!   writes it last, after `username`, `password` and `email`), and a Secret manifest's
//!   `.dockerconfigjson:` value, which is the whole config in base64 and must be decoded.
//! - 8: the command lines CI prints (`set -x` traces): `docker login -p`, `mysql -pV`, `helm
//!   --set x.password=V,…`, `kubectl create secret generic --from-literal=K=V`, `docker build
//!   --build-arg K=V`, `redis-cli -a V`, `az login -p V`; HTTP headers (`Cookie:` and
//!   `Set-Cookie:` with session-like names, `Authorization: Bearer|token|Basic`); a token as a
//!   URL's user (`https://TOKEN@host`); and the dumps of config objects in Java/Kotlin
//!   (`toString()`), Go (`%+v`), PHP (`print_r`), Python (`repr`), and JSON inside a JSON string.
//!
//! Values are strong random ones (`shush scan` must report them too: the scanner had the same
//! gaps) and, under password-like names, weak but real ones (redaction masks them; a scan may
//! rank them out). References and placeholders (`${X}`, `$X`, `<redacted>`, `***`), flags
//! that read a secret from elsewhere (`--password-stdin`), ports (`docker run -p`) and
//! ordinary cookies must stay. Every value is generated here; none is a real credential.

use super::harness::{self, Case, Category, capital, pick};
use crate::util::{self, Rng};

const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Characters safe in every context here: a shell word, a URL's user-info, a cookie value, a
/// `helm --set` value, a Go `%+v` field.
const SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const HEX: &[u8] = b"0123456789abcdef";

/// A strong random value of `n` bytes: a letter, then [`SAFE`] characters, with a digit.
fn strong(rng: &mut Rng, n: usize) -> String {
    loop {
        let s = format!("{}{}", rng.string(LETTERS, 1), rng.string(SAFE, n - 1));
        if s.bytes().any(|b| b.is_ascii_digit()) && s.bytes().any(|b| b.is_ascii_uppercase()) {
            return s;
        }
    }
}

const WORDS: &[&str] = &[
    "tulip", "maple", "river", "copper", "falcon", "meadow", "harbor", "violet", "summit", "ember",
];

/// A weak but real password of shape `i` that a shell prints unquoted: a word and digits, a
/// word with `test`, a passphrase of words, a season and a year.
fn weak(rng: &mut Rng, i: usize) -> String {
    let year = 2020 + rng.next_u64() % 7;
    let nn = 10 + rng.next_u64() % 90;
    let (a, b, c) = (pick(rng, WORDS), pick(rng, WORDS), pick(rng, WORDS));
    match i % 6 {
        0 => format!("{}1234", capital(a)),
        1 => format!("{a}test{nn}"),
        2 => format!("{a}-{b}-{c}"),
        3 => format!("{}{}{}", capital(a), capital(b), capital(c)),
        4 => format!("Summer{year}"),
        _ => format!("{a}{nn}{b}"),
    }
}

fn fill(template: &str, value: &str) -> String {
    template.replace("{V}", value)
}

/// A few lines of ordinary output around `text`, so a case is a piece of a log.
fn in_log(text: &str) -> String {
    format!("Run ./deploy.sh\n+ set -euo pipefail\n{text}\nDone in 0.42s\n")
}

/// Cases for each template (`{V}` the value), with a strong value (scanned) and, where
/// `weak_too`, two weak ones (redaction only). `keep` is text of the template that survives.
fn cases_for(
    category: Category,
    rng: &mut Rng,
    templates: &[(&str, &str)],
    weak_too: bool,
) -> Vec<Case> {
    let mut cases = Vec::new();
    for (i, (template, keep)) in templates.iter().enumerate() {
        let v = strong(rng, 24);
        cases.push(
            Case::new(
                category,
                format!("{template:?}"),
                in_log(&fill(template, &v)),
                &[&v],
            )
            .keep(&[keep, "Done in 0.42s"])
            .scanned(),
        );
        if weak_too {
            for j in 0..2 {
                let w = weak(rng, 2 * i + j);
                cases.push(
                    Case::new(
                        category,
                        format!("{template:?}/weak {w}"),
                        in_log(&fill(template, &w)),
                        &[&w],
                    )
                    .keep(&[keep, "Done in 0.42s"]),
                );
            }
        }
    }
    cases
}

/// Keep-only cases: `lines` come out unchanged.
fn stays(category: Category, what: &str, lines: &[&str]) -> Vec<Case> {
    lines
        .iter()
        .map(|l| {
            Case::new(category, format!("{what}/{l:?}"), in_log(l), &[])
                .keep(&[l])
                .scanned()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Category 7: Docker registry credentials.

/// A registry's entry in a Docker config, with `auth` at `position` (0 first, 1 middle, 2
/// last), compact or pretty.
fn registry_entry(auth: &str, password: &str, position: usize, pretty: bool) -> String {
    let mut fields = vec![
        format!("\"username\": \"ci-bot\""),
        format!("\"password\": \"{password}\""),
        format!("\"email\": \"ci@example.net\""),
    ];
    fields.insert(position.min(2) * 3 / 2, format!("\"auth\": \"{auth}\""));
    if position == 1 {
        fields.swap(1, 2);
    }
    if pretty {
        format!("{{\n      {}\n    }}", fields.join(",\n      "))
    } else {
        format!("{{{}}}", fields.join(",").replace(": ", ":"))
    }
}

/// A Docker config with two registries, the second holding the planted credentials.
fn docker_config(auth: &str, password: &str, position: usize, pretty: bool) -> String {
    let other = util::base64(format!(
        "reader:{}",
        Rng::new(position as u64).string(SAFE, 20)
    ));
    let first = format!("{{\"auth\": \"{other}\"}}");
    let entry = registry_entry(auth, password, position, pretty);
    if pretty {
        format!(
            "{{\n  \"auths\": {{\n    \"ghcr.io\": {first},\n    \"registry.example.net\": {entry}\n  }},\n  \"credsStore\": \"\"\n}}"
        )
    } else {
        format!(
            "{{\"auths\":{{\"ghcr.io\":{},\"registry.example.net\":{entry}}}}}",
            first.replace(": ", ":")
        )
    }
}

/// A registry entry whose only credential, `auth`, follows an e-mail or a username.
fn auth_after_another_field(rng: &mut Rng) -> Vec<Case> {
    let mut cases = Vec::new();
    for before in [
        "\"email\": \"ci@example.net\", ",
        "\"username\": \"ci-bot\", ",
    ] {
        let auth = util::base64(format!("ci-bot:{}", strong(rng, 20)));
        let config = format!(
            "{{\"auths\": {{\"registry.example.net\": {{{before}\"auth\": \"{auth}\"}}}}}}"
        );
        cases.push(
            Case::new(
                Category::DockerAuth,
                format!("config/after {before:?}"),
                in_log(&config),
                &[&auth],
            )
            .keep(&[before])
            .scanned(),
        );
    }
    cases
}

#[test]
fn docker_config_auth_in_any_position_is_masked() {
    let mut rng = Rng::new(0xd0c4);
    let mut cases = Vec::new();
    for position in 0..3 {
        for pretty in [false, true] {
            let password = strong(&mut rng, 22);
            let auth = util::base64(format!("ci-bot:{password}"));
            let config = docker_config(&auth, &password, position, pretty);
            cases.push(
                Case::new(
                    Category::DockerAuth,
                    format!("config/auth-at-{position}/pretty={pretty}"),
                    format!("+ cat ~/.docker/config.json\n{config}\n"),
                    &[&auth, &password],
                )
                .keep(&[
                    "\"username\"",
                    "\"email\"",
                    "ci@example.net",
                    "registry.example.net",
                ])
                .scanned(),
            );
        }
    }
    cases.extend(auth_after_another_field(&mut rng));
    cases.extend(stays(
        Category::DockerAuth,
        "no credentials",
        &[
            "{\"auths\": {\"ghcr.io\": {}}, \"credsStore\": \"desktop\"}",
            "{\"auths\":{\"registry.example.net\":{\"auth\":\"${REGISTRY_AUTH}\"}}}",
        ],
    ));
    harness::check(&cases);
}

/// The part of `blob` (the base64 of `text`) that encodes only bytes of `value`, a substring of
/// `text`: whole 3-byte groups inside it. A redactor that masks `value` in the decoded text
/// masks at least this.
fn encoded_part(blob: &str, text: &str, value: &str) -> String {
    let at = text.find(value).expect("the value is in the text");
    let (first, last) = (at.div_ceil(3), (at + value.len()) / 3);
    blob[4 * first..4 * last.max(first)].to_string()
}

/// What `kubectl create secret docker-registry` stores: the config with `auth` last.
fn dockerconfigjson(user: &str, password: &str) -> String {
    let auth = util::base64(format!("{user}:{password}"));
    format!(
        "{{\"auths\":{{\"registry.example.net\":{{\"username\":\"{user}\",\"password\":\"{password}\",\"email\":\"ci@example.net\",\"auth\":\"{auth}\"}}}}}}"
    )
}

/// What `kubectl` prints of a docker-registry secret holding `password`: the command that
/// creates it, the decoded config, and the manifest in YAML and JSON. Each: a name, the log,
/// the secrets in it, and text that must survive.
fn registry_secret_outputs(
    password: &str,
) -> Vec<(&'static str, String, Vec<String>, &'static str)> {
    let json = dockerconfigjson("ci-bot", password);
    let auth = util::base64(format!("ci-bot:{password}"));
    let blob = util::base64(&json);
    // In the manifest, the password and the `auth` are base64 inside base64.
    let encoded = vec![
        encoded_part(&blob, &json, password),
        encoded_part(&blob, &json, &auth),
    ];
    let cmd = format!(
        "+ kubectl create secret docker-registry regcred --docker-server=registry.example.net \
         --docker-username=ci-bot --docker-password={password} --docker-email=ci@example.net"
    );
    // `kubectl get secret regcred -o jsonpath=… | base64 -d`.
    let decoded = format!(
        "+ kubectl get secret regcred -o jsonpath='{{.data.\\.dockerconfigjson}}' | base64 -d\n{json}"
    );
    // `--dry-run=client -o yaml`, `kubectl get secret -o yaml` / `-o json`.
    let yaml = format!(
        "apiVersion: v1\ndata:\n  .dockerconfigjson: {blob}\nkind: Secret\nmetadata:\n  name: regcred\n  \
         namespace: ci\ntype: kubernetes.io/dockerconfigjson\n"
    );
    let json_manifest = format!(
        "{{\"apiVersion\":\"v1\",\"data\":{{\".dockerconfigjson\":\"{blob}\"}},\"kind\":\"Secret\"}}"
    );
    vec![
        (
            "command",
            in_log(&cmd),
            vec![password.to_string()],
            "--docker-email=ci@example.net",
        ),
        (
            "decoded",
            in_log(&decoded),
            vec![password.to_string(), auth],
            "\"email\":\"ci@example.net\"",
        ),
        (
            "manifest-yaml",
            yaml,
            encoded.clone(),
            "type: kubernetes.io/dockerconfigjson",
        ),
        (
            "manifest-json",
            in_log(&json_manifest),
            encoded,
            "\"kind\":\"Secret\"",
        ),
    ]
}

#[test]
fn kubectl_docker_registry_secrets_are_masked() {
    let mut rng = Rng::new(0x6b75);
    let mut cases = Vec::new();
    for i in 0..4 {
        // Strong passwords must be reported by a scan too; weak ones only masked.
        let strong_pw = i % 2 == 0;
        let password = if strong_pw {
            strong(&mut rng, 24)
        } else {
            weak(&mut rng, i)
        };
        for (name, input, secrets, keep) in registry_secret_outputs(&password) {
            let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
            let mut case = Case::new(Category::DockerAuth, format!("{name}/{i}"), input, &secrets)
                .keep(&[keep]);
            if strong_pw {
                case = case.scanned();
            }
            cases.push(case);
        }
    }
    harness::check(&cases);
}

// ---------------------------------------------------------------------------------------------
// Category 8: command lines.

/// Commands that take a password: `{V}` the value, then what must survive.
const PASSWORD_COMMANDS: &[(&str, &str)] = &[
    (
        "+ docker login -u ci -p {V} registry.example.net",
        "+ docker login -u ci -p ",
    ),
    (
        "+ docker login -p {V} -u ci registry.example.net",
        " -u ci registry.example.net",
    ),
    (
        "docker login --username ci --password {V} ghcr.io",
        "docker login --username ci --password ",
    ),
    (
        "docker login --username=ci --password={V} ghcr.io",
        "--password=",
    ),
    (
        "+ docker login -u ci -p '{V}' registry.example.net",
        "+ docker login -u ci -p '",
    ),
    (
        "+ podman login -u ci -p {V} quay.io",
        "+ podman login -u ci -p ",
    ),
    (
        "+ mysql -h db.internal -u root -p{V} app_db -e 'SELECT 1'",
        "-e 'SELECT 1'",
    ),
    ("mysql -uroot -p{V} -h 127.0.0.1", " -h 127.0.0.1"),
    (
        "+ mysqldump -u backup --password={V} --all-databases",
        "--all-databases",
    ),
    ("+ mysqladmin -u root -p'{V}' ping", " ping"),
    (
        "+ helm upgrade --install api ./chart --set db.password={V},db.user=app",
        ",db.user=app",
    ),
    (
        "+ helm install api ./chart --set-string postgresql.auth.password={V}",
        "--set-string postgresql.auth.password=",
    ),
    (
        "helm upgrade api ./chart --set image.tag=v1.2.3,redis.password={V} --wait",
        " --wait",
    ),
    (
        "+ kubectl create secret generic db --from-literal=password={V}",
        "--from-literal=password=",
    ),
    (
        "kubectl create secret generic db --from-literal=DB_PASSWORD={V} --from-literal=username=app",
        "--from-literal=username=app",
    ),
    ("+ redis-cli -h cache.internal -a {V} PING", " PING"),
    (
        "redis-cli -a '{V}' --no-auth-warning info",
        "--no-auth-warning info",
    ),
    (
        "+ redis-cli -u redis://default:{V}@cache.internal:6379 ping",
        "redis://default:",
    ),
    (
        "+ az login --service-principal -u 9f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b -p {V} --tenant example.onmicrosoft.com",
        "--tenant example.onmicrosoft.com",
    ),
    (
        "az login --service-principal --username 9f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b --password {V} --tenant 0a1b2c3d",
        "--tenant 0a1b2c3d",
    ),
    (
        "+ psql \"postgresql://app:{V}@db.internal:5432/app\" -c 'select 1'",
        "-c 'select 1'",
    ),
];

/// Commands that take a token or key: `{V}` the value, then what must survive.
const TOKEN_COMMANDS: &[(&str, &str)] = &[
    (
        "+ docker build --build-arg NPM_TOKEN={V} -t app .",
        " -t app .",
    ),
    (
        "docker build --build-arg=GITHUB_TOKEN={V} .",
        "docker build --build-arg=GITHUB_TOKEN=",
    ),
    (
        "#5 [build 2/6] RUN --mount=type=cache docker build --build-arg API_KEY={V} .",
        "--build-arg API_KEY=",
    ),
    (
        "+ kubectl create secret generic api --from-literal=API_KEY={V} --from-literal=region=eu",
        "--from-literal=region=eu",
    ),
    (
        "kubectl create secret generic t --from-literal=token={V}",
        "--from-literal=token=",
    ),
    (
        "+ helm upgrade app ./chart --set secrets.apiToken={V} --atomic",
        " --atomic",
    ),
    (
        "+ curl -sS -H 'Authorization: Bearer {V}' https://api.example.net/v1/deploy",
        "' https://api.example.net/v1/deploy",
    ),
    (
        "curl -H \"Authorization: token {V}\" https://git.example.net/api/v3/user",
        "https://git.example.net/api/v3/user",
    ),
    ("> Authorization: Bearer {V}", "> Authorization: Bearer "),
    (
        "  'Authorization': 'Bearer {V}',",
        "  'Authorization': 'Bearer ",
    ),
    (
        "+ git clone https://{V}@github.com/example-org/app.git",
        "@github.com/example-org/app.git",
    ),
    (
        "Cloning into 'app'... https://{V}@git.example.net/org/app.git",
        "@git.example.net/org/app.git",
    ),
    (
        "+ git remote set-url origin https://x-access-token:{V}@github.com/example-org/app.git",
        "https://x-access-token:",
    ),
    (
        "+ pip install --index-url https://ci:{V}@pypi.example.net/simple app",
        "@pypi.example.net/simple app",
    ),
];

#[test]
fn passwords_on_command_lines_are_masked() {
    let mut rng = Rng::new(0xc11);
    harness::check(&cases_for(
        Category::CommandLine,
        &mut rng,
        PASSWORD_COMMANDS,
        true,
    ));
}

#[test]
fn tokens_on_command_lines_are_masked() {
    let mut rng = Rng::new(0x70c);
    let mut cases = cases_for(Category::CommandLine, &mut rng, TOKEN_COMMANDS, false);
    // A token of no known format: 40 hex digits (a classic OAuth token), and an opaque one.
    for _ in 0..3 {
        let hex = rng.string(HEX, 40);
        for line in [
            format!("> Authorization: token {hex}"),
            format!("+ curl -H 'Authorization: Bearer {hex}' https://api.example.net"),
            format!("+ git clone https://{hex}@github.com/example-org/app.git"),
        ] {
            cases.push(
                Case::new(
                    Category::CommandLine,
                    format!("hex/{line:?}"),
                    in_log(&line),
                    &[&hex],
                )
                .scanned(),
            );
        }
    }
    harness::check(&cases);
}

#[test]
fn basic_authorization_headers_are_masked() {
    let mut rng = Rng::new(0xba51c);
    let mut cases = Vec::new();
    for i in 0..6 {
        let pw = if i % 2 == 0 {
            strong(&mut rng, 18)
        } else {
            weak(&mut rng, i)
        };
        let b = util::base64(format!("deploy:{pw}"));
        for line in [
            format!("> Authorization: Basic {b}"),
            format!("+ curl -H 'Authorization: Basic {b}' https://ci.example.net/api/json"),
            format!("headers: {{'Authorization': 'Basic {b}', 'Accept': '*/*'}}"),
        ] {
            cases.push(
                Case::new(
                    Category::CommandLine,
                    format!("basic/{line:?}"),
                    in_log(&line),
                    &[&b],
                )
                .keep(&["Authorization"])
                .scanned(),
            );
        }
    }
    harness::check(&cases);
}

/// Cookie headers: `{S}` a session value (a credential), the rest ordinary cookies.
const COOKIES: &[(&str, &str)] = &[
    ("> Cookie: session={V}; theme=dark", "; theme=dark"),
    (
        "Cookie: sessionid={V}; csrftoken_present=1; lang=en",
        "lang=en",
    ),
    (
        "+ curl -b 'JSESSIONID={V}' https://app.example.net/admin",
        "' https://app.example.net/admin",
    ),
    (
        "+ curl -H 'Cookie: PHPSESSID={V}; lang=en' https://app.example.net",
        "; lang=en' https://app.example.net",
    ),
    (
        "< Set-Cookie: session={V}; Path=/; HttpOnly; Secure",
        "; Path=/; HttpOnly; Secure",
    ),
    (
        "< set-cookie: connect.sid={V}; Path=/; Expires=Sun, 06 Dec 2026 10:11:12 GMT",
        "; Path=/; Expires=Sun, 06 Dec 2026 10:11:12 GMT",
    ),
    (
        "Set-Cookie: _app_session={V}; path=/; secure; HttpOnly; SameSite=Lax",
        "; path=/; secure; HttpOnly; SameSite=Lax",
    ),
    (
        "< Set-Cookie: remember_user_token={V}; Max-Age=1209600",
        "; Max-Age=1209600",
    ),
    (
        "cookie: lang=en; auth_token={V}",
        "cookie: lang=en; auth_token=",
    ),
    ("Cookie: theme=dark; sid={V}; lang=en", "; lang=en"),
];

#[test]
fn session_cookies_are_masked() {
    let mut rng = Rng::new(0xc00c1e);
    let mut cases = cases_for(Category::CommandLine, &mut rng, COOKIES, false);
    cases.extend(stays(
        Category::CommandLine,
        "cookie",
        &[
            "> Cookie: theme=dark; lang=en",
            "< Set-Cookie: theme=dark; Path=/; Max-Age=31536000",
            "Cookie: session=${SESSION}; lang=en",
            "Set-Cookie: session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            "< Set-Cookie: _ga=GA1.2.1234567890.1733480000; Path=/",
        ],
    ));
    harness::check(&cases);
}

#[test]
fn command_lines_without_a_secret_stay() {
    let cases = stays(
        Category::CommandLine,
        "no secret",
        &[
            "+ docker login -u ci --password-stdin registry.example.net",
            "echo \"$TOKEN\" | docker login -u ci --password-stdin ghcr.io",
            "+ docker login -u ci -p \"$REGISTRY_PASSWORD\" registry.example.net",
            "+ docker run -d -p 8080:80 -p 127.0.0.1:5432:5432 postgres:16",
            "+ mysql -u root -p app_db",
            "+ mysql -u root -p",
            "+ redis-cli -a \"$REDIS_PASSWORD\" ping",
            "+ helm upgrade app ./chart --set image.tag=v1.2.3,replicaCount=3",
            "+ helm upgrade app ./chart --set db.password=${DB_PASSWORD}",
            "+ kubectl create secret generic db --from-literal=username=app --from-literal=database=orders",
            "+ kubectl create secret generic db --from-file=password=./secrets/db.txt",
            "+ docker build --build-arg NODE_ENV=production --build-arg VERSION=1.2.3 .",
            "> Authorization: Bearer ${TOKEN}",
            "+ curl -H \"Authorization: Bearer $API_TOKEN\" https://api.example.net",
            "+ git clone https://github.com/example-org/app.git",
            "+ git clone https://deploy-bot@git.example.net/org/app.git",
            "password=<redacted>",
            "+ docker login -u ci -p *** registry.example.net",
            "+ az login --service-principal -u 9f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b -p \"$AZ_SECRET\" --tenant t",
        ],
    );
    harness::check(&cases);
}

// ---------------------------------------------------------------------------------------------
// Category 8: dumps of config objects.

/// How languages print an object with a password field.
const PASSWORD_DUMPS: &[(&str, &str)] = &[
    (
        "DataSource{url=jdbc:postgresql://db:5432/app, username=app, password={V}}",
        "DataSource{url=jdbc:postgresql://db:5432/app, username=app, password=",
    ),
    (
        "DataSourceConfig{url='jdbc:mysql://db/app', username='app', password='{V}', pool=10}",
        "', pool=10}",
    ),
    (
        "Config(user=app, password={V})",
        "Config(user=app, password=",
    ),
    (
        "DbSettings(host=db, password={V}, port=5432)",
        ", port=5432)",
    ),
    (
        "config: {User:app Password:{V} Host:db Port:5432}",
        " Host:db Port:5432}",
    ),
    ("&{User:app Password:{V}}", "&{User:app Password:"),
    (
        "main.Config{User:\"app\", Password:\"{V}\", Host:\"db\"}",
        "\", Host:\"db\"}",
    ),
    ("    [password] => {V}", "    [password] => "),
    ("    [db_password] => {V}", "    [db_password] => "),
    (
        "{'user': 'app', 'password': '{V}', 'host': 'db'}",
        "', 'host': 'db'}",
    ),
    (
        "Settings(user='app', password='{V}')",
        "Settings(user='app', password='",
    ),
    (
        "{\"event\":\"config\",\"body\":\"{\\\"user\\\":\\\"app\\\",\\\"password\\\":\\\"{V}\\\"}\"}",
        "\\\"user\\\":\\\"app\\\",\\\"password\\\":\\\"",
    ),
    (
        "msg=\"{\\\"password\\\": \\\"{V}\\\", \\\"host\\\": \\\"db\\\"}\"",
        "\\\", \\\"host\\\": \\\"db\\\"}\"",
    ),
];

/// How languages print an object with a token field.
const TOKEN_DUMPS: &[(&str, &str)] = &[
    (
        "ApiClient{baseUrl=https://api.example.net, apiKey={V}}",
        "ApiClient{baseUrl=https://api.example.net, apiKey=",
    ),
    (
        "Credentials(clientId=ci, clientSecret={V})",
        "Credentials(clientId=ci, clientSecret=",
    ),
    (
        "{Endpoint:https://api.example.net Token:{V} Timeout:30s}",
        " Timeout:30s}",
    ),
    ("    [api_key] => {V}", "    [api_key] => "),
    (
        "{'client_id': 'ci', 'client_secret': '{V}'}",
        "{'client_id': 'ci', 'client_secret': '",
    ),
    (
        "\"payload\": \"{\\\"access_token\\\":\\\"{V}\\\",\\\"expires_in\\\":3600}\"",
        "\\\",\\\"expires_in\\\":3600}\"",
    ),
];

#[test]
fn dumped_config_objects_are_masked() {
    let mut rng = Rng::new(0xd0d0);
    let mut cases = cases_for(Category::CommandLine, &mut rng, PASSWORD_DUMPS, true);
    cases.extend(cases_for(
        Category::CommandLine,
        &mut rng,
        TOKEN_DUMPS,
        false,
    ));
    // PHP's print_r prints a whole array over several lines.
    let v = strong(&mut rng, 20);
    let print_r = format!(
        "Array\n(\n    [host] => db.internal\n    [user] => app\n    [password] => {v}\n    [port] => 3306\n)\n"
    );
    cases.push(
        Case::new(Category::CommandLine, "print_r", print_r, &[&v])
            .keep(&[
                "    [host] => db.internal\n    [user] => app\n",
                "    [port] => 3306\n)",
            ])
            .scanned(),
    );
    // var_dump puts the value on the line after its key, with its length.
    let v = strong(&mut rng, 22);
    let var_dump = format!(
        "array(3) {{\n  [\"host\"]=>\n  string(11) \"db.internal\"\n  [\"db_password\"]=>\n  string({}) \"{v}\"\n  [\"port\"]=>\n  int(3306)\n}}\n",
        v.len()
    );
    cases.push(
        Case::new(Category::CommandLine, "var_dump", var_dump, &[&v])
            .keep(&[
                "  string(11) \"db.internal\"\n",
                "  [\"port\"]=>\n  int(3306)\n}",
            ])
            .scanned(),
    );
    cases.extend(stays(
        Category::CommandLine,
        "dump",
        &[
            "DataSource{url=jdbc:postgresql://db:5432/app, username=app, password=null}",
            "Config(user=app, password=****)",
            "{User:app Password: Host:db}",
            "    [password] => ",
            "{'user': 'app', 'password': '<redacted>'}",
            "Settings(user='app', password=[PROTECTED])",
        ],
    ));
    harness::check(&cases);
}
