package dev.graft.report;

/** Minimal HTML escaping and page chrome for graft's reports. */
final class Html {
    private Html() {
    }

    static String esc(Object o) {
        String s = String.valueOf(o);
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    static final String STYLE = """
            <style>
            body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
            h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
            table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
            th{background:#f4f4f4} td.l,th.l{text-align:left}
            .cm td{min-width:3em} .diag{background:#e3f2e1} .off{background:#fbe3e3}
            .warn{background:#fff4d6;border:1px solid #e6c35c;padding:.5em .8em;border-radius:4px}
            .gallery{display:flex;flex-wrap:wrap;gap:10px} .card{width:170px;font-size:.8em;border:1px solid #ddd;border-radius:4px;padding:4px}
            .card img{width:160px;height:160px;object-fit:cover;display:block;margin:auto}
            .charts{display:flex;flex-wrap:wrap;gap:12px} .charts img{max-width:100%} pre{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.85em}
            .big{font-size:1.4em;font-weight:600} .decision{background:#eef5fb;border:1px solid #9cc3e5;padding:.5em .8em;border-radius:4px}
            .cm.many td{min-width:2.2em;padding:.2em .3em;font-size:.9em} th.rot{height:8em;vertical-align:bottom;padding:.2em}
            th.rot span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;display:inline-block}
            </style>
            """;
}
