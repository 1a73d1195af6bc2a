package dev.graft.data;

import java.util.Locale;

/** What to do with an image that cannot be read: skip it (counted and listed in the report), or stop naming it. */
public enum OnBadImage {
    SKIP, FAIL;

    public static OnBadImage parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "skip" -> SKIP;
            case "fail" -> FAIL;
            default -> throw new IllegalArgumentException("--on-bad-image must be skip or fail, not '" + s + "'");
        };
    }
}
