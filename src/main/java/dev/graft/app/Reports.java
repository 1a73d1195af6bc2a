package dev.graft.app;

import dev.graft.report.HtmlReport;
import dev.graft.train.FineTuning;
import dev.graft.train.RunConfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes report.html next to the model. */
final class Reports {
    private Reports() {
    }

    static Path write(Path out, FineTuning.Result r, RunConfig cfg) throws IOException {
        Path f = out.resolve("report.html");
        Files.writeString(f, HtmlReport.forRun(r, cfg), StandardCharsets.UTF_8);
        return f;
    }
}
