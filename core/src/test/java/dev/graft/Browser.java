package dev.graft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.util.AtomicFolder;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Headless Debian Chromium driven through chromedriver's WebDriver protocol (plain HTTP + JSON), for testing the
 * report and the serve page as a person's browser sees them. Required in CI (GRAFT_REQUIRE_BROWSER=1); elsewhere
 * the tests are skipped when Chromium is not installed.
 */
public final class Browser implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
    private final Process driver;
    private final String base;
    private final String session;
    private final HttpClient http = HttpClient.newHttpClient();
    private final Path profile;

    private Browser(Process driver, String base, String session, Path profile) {
        this.driver = driver;
        this.base = base;
        this.session = session;
        this.profile = profile;
    }

    public static Browser start() throws Exception {
        boolean present = Files.isExecutable(Path.of("/usr/bin/chromedriver")) && Files.isExecutable(Path.of("/usr/bin/chromium"));
        if (System.getenv("GRAFT_REQUIRE_BROWSER") == null) {
            Assumptions.assumeTrue(present, "Chromium/chromedriver not installed (apt-get install chromium chromium-driver)");
        } else if (!present) {
            throw new IllegalStateException("GRAFT_REQUIRE_BROWSER is set but /usr/bin/chromium or /usr/bin/chromedriver is missing");
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process p = new ProcessBuilder("/usr/bin/chromedriver", "--port=" + port).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String base = "http://127.0.0.1:" + port;
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 0; i < 100; i++) {
            try {
                http.send(HttpRequest.newBuilder(URI.create(base + "/status")).build(), HttpResponse.BodyHandlers.ofString());
                break;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        Path profile = Files.createTempDirectory("graft-chromium");
        ObjectNode caps = JSON.createObjectNode();
        ObjectNode always = caps.putObject("capabilities").putObject("alwaysMatch");
        always.put("browserName", "chrome");
        ObjectNode opts = always.putObject("goog:chromeOptions");
        opts.put("binary", "/usr/bin/chromium");
        ArrayNode args = opts.putArray("args");
        for (String a : new String[] {"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
                "--window-size=1200,1600", "--user-data-dir=" + profile}) {
            args.add(a);
        }
        always.putObject("goog:loggingPrefs").put("browser", "ALL");
        JsonNode r = post(http, base + "/session", caps);
        String id = r.path("value").path("sessionId").asText();
        if (id.isEmpty()) {
            p.destroyForcibly();
            throw new IllegalStateException("chromedriver did not start a session: " + r);
        }
        return new Browser(p, base, id, profile);
    }

    private static JsonNode post(HttpClient http, String url, JsonNode body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    private JsonNode cmd(String path, JsonNode body) throws Exception {
        JsonNode r = post(http, base + "/session/" + session + path, body);
        if (r.path("value").has("error")) {
            throw new IllegalStateException("WebDriver " + path + ": " + r.path("value").path("message").asText());
        }
        return r.path("value");
    }

    private JsonNode get(String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/session/" + session + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body()).path("value");
    }

    public void open(String url) throws Exception {
        cmd("/url", JSON.createObjectNode().put("url", url));
    }

    /** Runs JavaScript in the page and returns its result. */
    public JsonNode script(String js) throws Exception {
        ObjectNode b = JSON.createObjectNode().put("script", js);
        b.putArray("args");
        return cmd("/execute/sync", b);
    }

    public String find(String css) throws Exception {
        JsonNode el = cmd("/element", JSON.createObjectNode().put("using", "css selector").put("value", css));
        String id = el.path(ELEMENT).asText(el.path("ELEMENT").asText());
        if (id.isEmpty()) {
            throw new IllegalStateException("no element " + css + ": " + el);
        }
        return id;
    }

    public void upload(String css, Path file) throws Exception {
        String el = find(css);
        cmd("/element/" + el + "/value", JSON.createObjectNode().put("text", file.toAbsolutePath().normalize().toString()));
    }

    /** Waits until the script returns true. */
    public void waitFor(String jsCondition, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (script("return !!(" + jsCondition + ");").asBoolean()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("timed out waiting for " + jsCondition);
    }

    /** Console messages at SEVERE level (JavaScript errors, failed loads). */
    public List<String> consoleErrors() throws Exception {
        JsonNode logs = cmd("/se/log", JSON.createObjectNode().put("type", "browser"));
        List<String> out = new ArrayList<>();
        for (JsonNode l : logs) {
            if (l.path("level").asText().equals("SEVERE")) {
                out.add(l.path("message").asText());
            }
        }
        return out;
    }

    public void screenshot(Path png) throws Exception {
        Files.createDirectories(png.getParent());
        Files.write(png, Base64.getDecoder().decode(get("/screenshot").asText()));
    }

    @Override
    public void close() throws Exception {
        try {
            http.send(HttpRequest.newBuilder(URI.create(base + "/session/" + session)).DELETE().build(), HttpResponse.BodyHandlers.ofString());
        } finally {
            driver.destroy();
            driver.waitFor();
            AtomicFolder.deleteTree(profile); // Chromium's profile, tens of MB a session
        }
    }
}
