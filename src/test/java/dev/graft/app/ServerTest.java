package dev.graft.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.Shared;
import dev.graft.model.nn.Precision;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code graft serve} over real HTTP on loopback. */
class ServerTest {
    static Classifier classifier;
    static Server server;
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        classifier = Classifier.load(TinyBundle.get(), 4_000_000, Precision.FP32);
        server = new Server(classifier, new Server.Limits(200_000, 2, 5_000, 2)).start("127.0.0.1", 0);
    }

    @AfterAll
    static void stop() {
        server.close();
        classifier.close();
    }

    static String url(String path) {
        return "http://127.0.0.1:" + server.port() + path;
    }

    static HttpResponse<String> post(String contentType, byte[] body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url("/predict"))).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void rawImageBodyGivesTopK() throws Exception {
        byte[] jpeg = Files.readAllBytes(Shared.hotdog().resolve("test/hotdog/b1d13254d61f.jpg"));
        HttpResponse<String> r = post("image/jpeg", jpeg);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode n = JSON.readTree(r.body());
        assertEquals(2, n.get("predictions").size());
        double sum = n.get("predictions").get(0).get("probability").asDouble() + n.get("predictions").get(1).get("probability").asDouble();
        assertEquals(1.0, sum, 1e-4);
    }

    @Test
    void multipartUploadWorks() throws Exception {
        byte[] jpeg = Files.readAllBytes(Shared.hotdog().resolve("test/not-hotdog/" + Files.list(Shared.hotdog().resolve("test/not-hotdog"))
                .findFirst().orElseThrow().getFileName()));
        String boundary = "graftboundary123";
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"photo.jpg\"\r\n"
                + "Content-Type: image/jpeg\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.write(jpeg);
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = post("multipart/form-data; boundary=" + boundary, body.toByteArray());
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("photo.jpg", JSON.readTree(r.body()).get("file").asText());
    }

    @Test
    void badUploadsGet4xxAndTheServerKeepsServing() throws Exception {
        HttpResponse<String> text = post("image/jpeg", "definitely not an image".getBytes(StandardCharsets.UTF_8));
        assertEquals(400, text.statusCode(), text.body());
        assertTrue(JSON.readTree(text.body()).get("error").asText().contains("not"), text.body());
        HttpResponse<String> empty = post("image/jpeg", new byte[0]);
        assertEquals(400, empty.statusCode());
        HttpResponse<String> big = post("image/jpeg", new byte[300_000]);
        assertEquals(413, big.statusCode(), big.body());
        // a PNG header declaring 30000x30000 pixels is refused before decoding
        HttpResponse<String> bomb = post("image/png", dev.graft.BadInputs.pngHeader(30000, 30000));
        assertTrue(bomb.statusCode() == 413 || bomb.statusCode() == 400, bomb.body());
        assertTrue(bomb.body().contains("pixels"), bomb.body());
        HttpResponse<String> health = HTTP.send(HttpRequest.newBuilder(URI.create(url("/health"))).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode());
        assertEquals("ok", JSON.readTree(health.body()).get("status").asText());
        rawImageBodyGivesTopK();
    }

    @Test
    void busyServerAnswers503WithRetryAfter() throws Exception {
        try (Server busy = new Server(classifier, new Server.Limits(200_000, 1, 50, 2)).start("127.0.0.1", 0)) {
            busy.slots().acquire();
            try {
                byte[] jpeg = Files.readAllBytes(Shared.hotdog().resolve("test/hotdog/b1d13254d61f.jpg"));
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + busy.port() + "/predict"))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(jpeg)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(503, r.statusCode(), r.body());
                assertEquals("1", r.headers().firstValue("Retry-After").orElse(""));
            } finally {
                busy.slots().release();
            }
        }
    }

    @Test
    void pageIsServed() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url("/"))).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("<input id=\"file\" type=\"file\""));
    }
}
