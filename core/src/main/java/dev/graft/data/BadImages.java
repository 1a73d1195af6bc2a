package dev.graft.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** The images a run skipped and why; each is reported once, and all of them are listed in the report. */
public final class BadImages {
    private final Map<Path, String> skipped = new LinkedHashMap<>();
    private final Consumer<String> warn;

    public BadImages(Consumer<String> warn) {
        this.warn = warn;
    }

    public synchronized void add(BadImageException e) {
        if (skipped.putIfAbsent(e.file(), e.reason()) == null) {
            warn.accept("skipping " + e.getMessage());
        }
    }

    public synchronized int count() {
        return skipped.size();
    }

    public synchronized boolean contains(Path p) {
        return skipped.containsKey(p);
    }

    public synchronized List<Map.Entry<Path, String>> list() {
        return new ArrayList<>(skipped.entrySet());
    }
}
