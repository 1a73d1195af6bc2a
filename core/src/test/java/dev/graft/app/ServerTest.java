package dev.graft.app;

import dev.graft.api.Classifier;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.Shared;
import dev.graft.data.ImageDecoder;
import dev.graft.data.RgbImage;
import dev.graft.model.nn.Precision;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

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
        server = new Server(classifier, new Server.Limits(200_000, 2, 5_000, 2, ImageDecoder.SERVING_MAX_PIXELS, 1_000)).start("127.0.0.1", 0);
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
        assertJsonError(bomb, 413, "900000000 pixels");
        HttpResponse<String> health = HTTP.send(HttpRequest.newBuilder(URI.create(url("/health"))).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode());
        assertEquals("ok", JSON.readTree(health.body()).get("status").asText());
        rawImageBodyGivesTopK();
    }

    @Test
    void busyServerAnswers503WithRetryAfter() throws Exception {
        try (Server busy = new Server(classifier, new Server.Limits(200_000, 1, 50, 2, ImageDecoder.SERVING_MAX_PIXELS, 1_000)).start("127.0.0.1", 0)) {
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

    static void assertJsonError(HttpResponse<String> r, int status, String... words) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
        String msg = JSON.readTree(r.body()).get("error").asText();
        for (String w : words) {
            assertTrue(msg.contains(w), msg);
        }
        assertTrue(!msg.matches(".*\\b(java|javax|org\\.eclipse|io\\.javalin)\\.[a-z].*") && !msg.contains("Exception"),
                "no Java class names: " + msg);
    }

    @Test
    void unknownRoutesAndWrongMethodsAnswerJson() throws Exception {
        assertJsonError(HTTP.send(HttpRequest.newBuilder(URI.create(url("/nope"))).build(), HttpResponse.BodyHandlers.ofString()),
                404, "/nope", "POST /predict");
        assertJsonError(HTTP.send(HttpRequest.newBuilder(URI.create(url("/predict"))).build(), HttpResponse.BodyHandlers.ofString()),
                405, "GET", "POST");
        assertJsonError(HTTP.send(HttpRequest.newBuilder(URI.create(url("/health"))).DELETE().build(), HttpResponse.BodyHandlers.ofString()),
                405, "DELETE");
    }

    @Test
    void anUploadThatStopsShortGets408() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 5000\r\n\r\n"
                    + "only a few bytes").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String answer = new String(s.getInputStream().readNBytes(4096), StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
            String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
            String msg = JSON.readTree(body.substring(body.indexOf('{'))).get("error").asText();
            assertTrue(msg.contains("5000") && !msg.contains("Exception") && !msg.contains("java."), msg);
        }
        rawImageBodyGivesTopK();
    }

    @Test
    void servingRefusesABombByDefaultAndDecodesLargePhotosAtReducedScale() throws Exception {
        // 9000 x 9000 is over the serving default (50 million pixels): refused from the header, nothing decoded
        long t0 = System.nanoTime();
        HttpResponse<String> bomb = post("image/png", dev.graft.BadInputs.pngHeader(9000, 9000));
        assertJsonError(bomb, 413, "81000000 pixels", "50000000");
        assertTrue((System.nanoTime() - t0) / 1e9 < 2, "refused from the header");
        // a large photo is decoded at a reduced scale (and answered 200, not refused)...
        java.awt.image.BufferedImage big = dev.graft.Images.pattern(2400, 1800, 5);
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        javax.imageio.ImageIO.write(big, "png", png);
        Server roomy = new Server(classifier, new Server.Limits(20_000_000, 2, 5_000, 2, ImageDecoder.SERVING_MAX_PIXELS, 5_000)).start("127.0.0.1", 0);
        HttpResponse<String> r;
        try (roomy) {
            r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + roomy.port() + "/predict"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(png.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
        }
        assertEquals(200, r.statusCode(), r.body());
        float served = (float) JSON.readTree(r.body()).get("predictions").get(0).get("probability").asDouble();
        int servedClass = JSON.readTree(r.body()).get("predictions").get(0).get("index").asInt();
        int resize = classifier.preprocessing().resize();
        RgbImage reduced = new ImageDecoder(ImageDecoder.SERVING_MAX_PIXELS, resize).decode(java.nio.file.Path.of("big.png"), png.toByteArray());
        assertTrue(reduced.height() < 1800 / 4 && reduced.height() >= resize, "shorter side " + reduced.height());
        // ...it is that reduced image that the model saw...
        float[] fromReduced = classifier.probabilities(List.of(reduced))[0];
        assertEquals(fromReduced[servedClass], served, 1e-6f, "the served answer is the prediction on the reduced decode");
        // ...and the answer is the same as for the photo properly scaled down to that size first (Pillow-exact area resize)
        RgbImage scaled = dev.graft.data.Resample.resize(RgbImage.of(big), reduced.width(), reduced.height());
        float[] fromScaled = classifier.probabilities(List.of(scaled))[0];
        assertEquals(argmax(fromScaled), servedClass, "the same top class as the photo scaled down");
        assertEquals(fromScaled[servedClass], served, 0.02f, "the same probability as the photo scaled down, within 0.02");
    }

    static int argmax(float[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) {
            if (p[i] > p[best]) {
                best = i;
            }
        }
        return best;
    }
}
