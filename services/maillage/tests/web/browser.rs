//! A real browser for the console's tests: headless Chromium driven by
//! chromedriver over the W3C WebDriver protocol (plain HTTP and JSON). Both
//! are required: the tests fail, never skip, when one is missing
//! (`apt-get install -y chromium chromium-driver`, as scripts/test does).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use super::request;

/// The WebDriver id of an element in a JSON answer.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn required(variable: &str, default: &str, what: &str) -> PathBuf {
    let path = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    let install = if what == "axe-core" {
        "`npm install --prefix target/tools/axe axe-core`"
    } else {
        "`apt-get install -y chromium chromium-driver`"
    };
    assert!(
        path.exists(),
        "{what} is missing at {}: install it ({install}, as scripts/test does) or point \
         {variable} at it — this test does not skip",
        path.display()
    );
    path
}

/// A headless Chromium session.
pub struct Browser {
    driver: Child,
    endpoint: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a session of headless Chromium.
    pub async fn start() -> Browser {
        let chromium = required("MAILLAGE_CHROMIUM", "/usr/bin/chromium", "Chromium");
        let chromedriver = required(
            "MAILLAGE_CHROMEDRIVER",
            "/usr/bin/chromedriver",
            "chromedriver",
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                let status = request("GET", &format!("{endpoint}/status"), None, None).await;
                if status.status == 200 && status.body.contains("\"ready\":true") {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "chromedriver did not get ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--disable-background-networking", "--disable-sync",
                         "--window-size=1280,1000", "--lang=fr-FR",
                         format!("--user-data-dir={}", profile.path().display())]
            }
        }}});
        let mut browser = Browser {
            driver,
            endpoint,
            session: String::new(),
            _profile: profile,
        };
        let created = browser.call("POST", "/session", Some(capabilities)).await;
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        browser
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|body| body.to_string());
        let reply = request(
            method,
            &format!("{}{path}", self.endpoint),
            None,
            body.as_deref().map(|body| ("application/json", body)),
        )
        .await;
        let value: Value = serde_json::from_str(&reply.body)
            .unwrap_or_else(|_| panic!("WebDriver {method} {path}: {}", reply.body));
        assert_eq!(reply.status, 200, "WebDriver {method} {path}: {value}");
        value["value"].clone()
    }

    async fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
            .await
    }

    /// Opens `url` (and waits for it to load).
    pub async fn goto(&self, url: &str) {
        self.session_call("POST", "/url", Some(json!({ "url": url })))
            .await;
    }

    /// Signs in with `token` on the console at `site_url`.
    pub async fn sign_in(&self, site_url: &str, token: &str) {
        self.goto(&format!("{site_url}/connexion")).await;
        self.fill("#token", token).await;
        self.click("main form[method=post] button[type=submit]")
            .await;
        self.wait_for("Se déconnecter").await;
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.session_call("GET", "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The page's HTML as the browser holds it.
    pub async fn source(&self) -> String {
        self.session_call("GET", "/source", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .session_call(
                "POST",
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    /// Types `text` into the field `css`, after clearing it.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.session_call(
            "POST",
            &format!("/element/{element}/clear"),
            Some(json!({})),
        )
        .await;
        self.session_call(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Clicks the element `css` (a button, a link, a checkbox, an option).
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.session_call(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Sets the value of the field `css` as a script would (date inputs,
    /// whose typing format depends on the browser's locale).
    pub async fn set_value(&self, css: &str, value: &str) {
        self.session_call(
            "POST",
            "/execute/sync",
            Some(json!({
                "script": "document.querySelector(arguments[0]).value = arguments[1];",
                "args": [css, value]
            })),
        )
        .await;
    }

    /// The visible text of the element `css`.
    pub async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.session_call("GET", &format!("/element/{element}/text"), None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The value of the form field `css`.
    pub async fn value(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.session_call("GET", &format!("/element/{element}/property/value"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits (bounded) until the page's source holds `text`; returns the source.
    pub async fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let source = self.source().await;
            if source.contains(text) {
                return source;
            }
            assert!(
                Instant::now() < deadline,
                "the page never showed {text:?}; it is at {}:\n{source}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The WCAG 2.1 A and AA violations axe-core finds on the page, as
    /// `(rule, impact, how many elements, what it asks)`. axe-core comes from
    /// `MAILLAGE_AXE` (its `axe.min.js`) or the npm package that scripts/test
    /// installs into target/tools/axe; required, like the browser.
    pub async fn accessibility_violations(&self) -> Vec<(String, String, u64, String)> {
        let default = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/tools/axe/node_modules/axe-core/axe.min.js"
        );
        let axe = std::fs::read_to_string(required("MAILLAGE_AXE", default, "axe-core"))
            .expect("axe.min.js reads");
        let script = format!(
            "{axe}\nconst done = arguments[arguments.length - 1];\n\
             axe.run(document, {{ runOnly: {{ type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }} }})\n\
             .then(r => done(r.violations.map(v => [v.id, v.impact || '', v.nodes.length, v.help])))\n\
             .catch(e => done([['axe-error', 'critical', 0, String(e)]]));"
        );
        let found = self
            .session_call(
                "POST",
                "/execute/async",
                Some(json!({ "script": script, "args": [] })),
            )
            .await;
        serde_json::from_value(found).expect("axe's answer")
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        let encoded = self.session_call("GET", "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap())
            .unwrap()
    }

    /// The WCAG violations of impact serious or critical on the page, as
    /// `"<rule>: <what it asks>"`.
    pub async fn serious_violations(&self) -> Vec<String> {
        self.accessibility_violations()
            .await
            .into_iter()
            .filter(|(_, impact, _, _)| matches!(impact.as_str(), "serious" | "critical"))
            .map(|(rule, _, _, help)| format!("{rule}: {help}"))
            .collect()
    }

    /// Ends the session (Chromium quits) and stops chromedriver.
    pub async fn close(mut self) {
        self.session_call("DELETE", "", None).await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
