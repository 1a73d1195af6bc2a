package dev.graft.app;

import dev.graft.api.Classifier;
import dev.graft.Browser;
import dev.graft.Shared;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report and the serve page in headless Chromium; screenshots go to target/screenshots/. */
class BrowserTest {

    @Test
    void reportOpensFromDiskWithChartsGalleryAndNoConsoleErrors() throws Exception {
        Path report = TinyBundle.get().resolve("report.html");
        try (Browser b = Browser.start()) {
            b.open(report.toUri().toString());
            b.waitFor("document.readyState === 'complete'", Duration.ofSeconds(20));
            int charts = b.script("return Array.from(document.querySelectorAll('.charts img')).filter(i => i.complete && i.naturalWidth > 300).length;").asInt();
            assertEquals(2, charts, "loss and accuracy charts render");
            assertTrue(b.script("return document.querySelector('table.cm') !== null;").asBoolean(), "confusion matrix");
            int thumbs = b.script("return Array.from(document.querySelectorAll('.gallery img:not(.heat)')).filter(i => i.naturalWidth > 0).length;").asInt();
            int heat = b.script("return Array.from(document.querySelectorAll('.gallery img.heat')).filter(i => i.naturalWidth === 160).length;").asInt();
            int cards = b.script("return document.querySelectorAll('.gallery .card').length;").asInt();
            boolean noMistakes = b.script("return document.body.innerText.includes('every test image was classified correctly');").asBoolean();
            assertTrue(noMistakes || thumbs > 0 && thumbs == cards, "gallery images load: " + thumbs + "/" + cards);
            assertTrue(noMistakes || heat == Math.min(cards, 16), "Grad-CAM heat maps load: " + heat + "/" + cards);
            b.screenshot(Path.of("target/screenshots/report.png"));
            List<String> errors = b.consoleErrors();
            assertTrue(errors.isEmpty(), "console errors: " + errors);
        }
    }

    @Test
    void servePageUploadsAnImageAndShowsTheTopK() throws Exception {
        try (Classifier c = Classifier.load(TinyBundle.get());
             Server s = new Server(c, Server.Limits.defaults()).start("127.0.0.1", 0);
             Browser b = Browser.start()) {
            b.open("http://127.0.0.1:" + s.port() + "/");
            b.waitFor("document.getElementById('labels').textContent.includes('hotdog')", Duration.ofSeconds(20));
            b.upload("#file", Shared.hotdog().resolve("test/hotdog/b1d13254d61f.jpg"));
            b.waitFor("document.querySelectorAll('.prediction').length === 2", Duration.ofSeconds(60));
            String labels = b.script("return Array.from(document.querySelectorAll('.prediction .label')).map(e => e.textContent).sort().join(',');").asText();
            assertEquals("hotdog,not-hotdog", labels);
            double total = b.script("return Array.from(document.querySelectorAll('.prediction .pct')).map(e => parseFloat(e.textContent)).reduce((a, x) => a + x, 0);").asDouble();
            assertEquals(100.0, total, 0.3);
            b.screenshot(Path.of("target/screenshots/serve.png"));
            // the Grad-CAM toggle asks again with ?explain=1 and shows the map under the result
            b.script("document.getElementById('explain').click(); return true;");
            b.waitFor("document.getElementById('heatmap').style.display === 'block' && document.getElementById('heatmap').naturalWidth > 0", Duration.ofSeconds(60));
            String note = b.script("return document.getElementById('heatnote').textContent;").asText();
            assertTrue(note.contains("hotdog"), note);
            b.screenshot(Path.of("target/screenshots/serve-gradcam.png"));
            List<String> errors = b.consoleErrors();
            assertTrue(errors.isEmpty(), "console errors: " + errors);
        }
    }
}
