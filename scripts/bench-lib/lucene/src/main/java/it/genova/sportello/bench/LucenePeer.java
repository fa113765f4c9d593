package it.genova.sportello.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.it.ItalianAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.OffsetAttribute;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.IntPoint;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.facet.FacetResult;
import org.apache.lucene.facet.FacetsCollector;
import org.apache.lucene.facet.FacetsCollectorManager;
import org.apache.lucene.facet.FacetsConfig;
import org.apache.lucene.facet.sortedset.DefaultSortedSetDocValuesReaderState;
import org.apache.lucene.facet.sortedset.SortedSetDocValuesFacetCounts;
import org.apache.lucene.facet.sortedset.SortedSetDocValuesFacetField;
import org.apache.lucene.facet.sortedset.SortedSetDocValuesReaderState;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.BoostQuery;
import org.apache.lucene.search.FuzzyQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.MultiCollectorManager;
import org.apache.lucene.search.PrefixQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TopFieldCollectorManager;
import org.apache.lucene.search.TopScoreDocCollectorManager;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.MMapDirectory;

/**
 * The Lucene peer of {@code scripts/bench catalog-real}: the same records, the same text queries
 * and the same facets as Sportello's catalogue search, in-process (no HTTP).
 *
 * <p>Index: one document per record; {@code words} is title, author, subject and publisher
 * through the ItalianAnalyzer, with the title written three times and the author twice (the
 * weights of Sportello's index, which repeats words the same way); ISBN, language, year,
 * municipalities, libraries and "a copy on the shelf" as filter fields; format, language,
 * municipality and library as sorted-set doc-values facets (Sportello's four facets).
 *
 * <p>Query, as Sportello builds it: every analysed word must match, or the ISBN (boost 10); when
 * the words as typed find fewer than 20 records and the query is no ISBN, it is run again with
 * typo tolerance for unknown words (edit distance 1 for 5 to 8 characters, 2 beyond) and the
 * last word also as a prefix. Each query counts every match exactly and counts the four facets
 * over every match (Sportello does both), and keeps the best 21.
 *
 * <p>Lucene's best plan: a RAM buffer of 256 MB, the index merged to one segment, one searcher
 * and one facet reader state reused by every query, its default query cache, a warm-up of each
 * kind before it is measured.
 *
 * <p>Usage: LucenePeer DATA_DIR INDEX_DIR SECONDS THREADS KIND... (DATA_DIR has records.tsv,
 * records_facets.tsv and queries/KIND.paths). Prints one {@code RESULT kind=...} line per kind.
 */
public final class LucenePeer {
    private static final int EXPAND_BELOW = 20;
    private static final int PAGE = 21;
    private static final String[] DIMS = {"format", "language", "municipality", "library"};

    private final IndexSearcher searcher;
    private final SortedSetDocValuesReaderState facetState;
    private final Analyzer analyzer = new ItalianAnalyzer();
    /** Facet values read, so that no work is optimised away. */
    private volatile long sink;

    private LucenePeer(IndexSearcher searcher, SortedSetDocValuesReaderState facetState) {
        this.searcher = searcher;
        this.facetState = facetState;
    }

    private static FacetsConfig facetsConfig() {
        FacetsConfig config = new FacetsConfig();
        config.setMultiValued("municipality", true);
        config.setMultiValued("library", true);
        return config;
    }

    /** Indexes the records; returns the seconds taken (adding, committing and merging). */
    static double index(Path data, Path indexDir) throws IOException {
        long start = System.nanoTime();
        FacetsConfig config = facetsConfig();
        IndexWriterConfig iwc = new IndexWriterConfig(new ItalianAnalyzer());
        iwc.setRAMBufferSizeMB(256);
        iwc.setOpenMode(IndexWriterConfig.OpenMode.CREATE);
        long n = 0;
        try (Directory dir = new MMapDirectory(indexDir);
                IndexWriter writer = new IndexWriter(dir, iwc);
                BufferedReader records = Files.newBufferedReader(data.resolve("records.tsv"), StandardCharsets.UTF_8);
                BufferedReader extra = Files.newBufferedReader(data.resolve("records_facets.tsv"), StandardCharsets.UTF_8)) {
            String line;
            while ((line = records.readLine()) != null) {
                String[] r = line.split("\t", -1);
                String[] x = extra.readLine().split("\t", -1);
                Document doc = new Document();
                doc.add(new StringField("id", r[0], Field.Store.YES));
                String title = r[1], author = r[2];
                String words = String.join(" ", title, title, title, author, author, r[3], r[4]);
                doc.add(new TextField("words", words, Field.Store.NO));
                doc.add(new StringField("isbn", r[5], Field.Store.NO));
                int year = Integer.parseInt(x[1]);
                doc.add(new IntPoint("year", year));
                doc.add(new NumericDocValuesField("year", year));
                doc.add(new StringField("language", x[2], Field.Store.NO));
                doc.add(new SortedSetDocValuesFacetField("format", "book"));
                doc.add(new SortedSetDocValuesFacetField("language", x[2]));
                for (String m : x[3].split(",")) {
                    if (!m.isEmpty()) {
                        doc.add(new StringField("municipality", m, Field.Store.NO));
                        doc.add(new SortedSetDocValuesFacetField("municipality", m));
                    }
                }
                for (String l : x[4].split(",")) {
                    if (!l.isEmpty()) {
                        doc.add(new SortedSetDocValuesFacetField("library", l));
                    }
                }
                doc.add(new StringField("available", x[5].isEmpty() ? "false" : "true", Field.Store.NO));
                writer.addDocument(config.build(doc));
                n++;
            }
            writer.commit();
            writer.forceMerge(1);
            writer.commit();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("INDEX records=%d seconds=%.1f rps=%.0f%n", n, seconds, n / seconds);
        return seconds;
    }

    /** A search: the query string of a Sportello search path. */
    record Search(String q, Map<String, String> params) {
        static Search parse(String path) {
            String query = path.substring(path.indexOf('?') + 1);
            Map<String, String> params = new HashMap<>();
            for (String pair : query.split("&")) {
                int eq = pair.indexOf('=');
                params.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
            return new Search(params.getOrDefault("q", "").trim(), params);
        }
    }

    /** A word of the query: its analysed form and its length as typed. */
    record Word(String term, int typed) {}

    private List<Word> words(String q) throws IOException {
        LinkedHashSet<String> seen = new LinkedHashSet<>();
        List<Word> out = new ArrayList<>();
        try (TokenStream stream = analyzer.tokenStream("words", q)) {
            CharTermAttribute term = stream.addAttribute(CharTermAttribute.class);
            OffsetAttribute offset = stream.addAttribute(OffsetAttribute.class);
            stream.reset();
            while (stream.incrementToken()) {
                String text = term.toString();
                if (seen.add(text)) {
                    out.add(new Word(text, q.codePointCount(offset.startOffset(), offset.endOffset())));
                }
            }
            stream.end();
        }
        return out;
    }

    /** The text part, exact or widened; null when there is nothing (more) to match. */
    private Query textQuery(String q, List<Word> words, String isbn, boolean widen) throws IOException {
        BooleanQuery.Builder alternatives = new BooleanQuery.Builder();
        boolean any = false;
        if (isbn != null) {
            alternatives.add(new BoostQuery(new TermQuery(new Term("isbn", isbn)), 10f), Occur.SHOULD);
            any = true;
        }
        boolean widened = false;
        if (!words.isEmpty()) {
            BooleanQuery.Builder all = new BooleanQuery.Builder();
            int last = words.size() - 1;
            for (int i = 0; i < words.size(); i++) {
                Word w = words.get(i);
                Term term = new Term("words", w.term());
                if (!widen) {
                    all.add(new TermQuery(term), Occur.MUST);
                    continue;
                }
                BooleanQuery.Builder either = new BooleanQuery.Builder();
                either.add(new TermQuery(term), Occur.SHOULD);
                boolean known = searcher.getIndexReader().docFreq(term) > 0;
                int distance = known || w.typed() <= 4 ? 0 : w.typed() <= 8 ? 1 : 2;
                if (distance > 0) {
                    either.add(new BoostQuery(new FuzzyQuery(term, distance, 0), 0.3f), Occur.SHOULD);
                    widened = true;
                }
                if (i == last && w.typed() >= 3) {
                    either.add(new BoostQuery(new PrefixQuery(term), 0.5f), Occur.SHOULD);
                    widened = true;
                }
                all.add(either.build(), Occur.MUST);
            }
            alternatives.add(all.build(), Occur.SHOULD);
            any = true;
        }
        if (!any || (widen && !widened)) {
            return null;
        }
        return alternatives.build();
    }

    private static Query withFilters(Query text, Search s) {
        BooleanQuery.Builder b = new BooleanQuery.Builder().add(text, Occur.MUST);
        Map<String, String> p = s.params();
        if (p.containsKey("language")) {
            b.add(new TermQuery(new Term("language", p.get("language"))), Occur.FILTER);
        }
        if (p.containsKey("municipality")) {
            b.add(new TermQuery(new Term("municipality", p.get("municipality"))), Occur.FILTER);
        }
        if (p.containsKey("year_from") || p.containsKey("year_to")) {
            int from = Integer.parseInt(p.getOrDefault("year_from", "0"));
            int to = Integer.parseInt(p.getOrDefault("year_to", "3000"));
            b.add(IntPoint.newRangeQuery("year", from, to), Occur.FILTER);
        }
        if ("true".equals(p.get("available"))) {
            b.add(new TermQuery(new Term("available", "true")), Occur.FILTER);
        }
        return b.build();
    }

    /** Runs one search as Sportello does; returns the exact number of matches. */
    long search(Search s) throws IOException {
        String compact = s.q().replace("-", "").replace(" ", "");
        String isbn = compact.length() == 13 && compact.chars().allMatch(Character::isDigit) ? compact : null;
        List<Word> words = words(s.q());
        Query exact = textQuery(s.q(), words, isbn, false);
        if (exact == null) {
            return 0;
        }
        boolean byYear = "year".equals(s.params().get("sort"));
        long count = run(withFilters(exact, s), byYear);
        if (isbn == null && count < EXPAND_BELOW) {
            Query widened = textQuery(s.q(), words, null, true);
            if (widened != null) {
                count = run(withFilters(widened, s), byYear);
            }
        }
        return count;
    }

    private long run(Query query, boolean byYear) throws IOException {
        FacetsCollectorManager facets = new FacetsCollectorManager();
        Object[] results;
        if (byYear) {
            Sort sort = new Sort(new SortField("year", SortField.Type.INT, true));
            results = searcher.search(query, new MultiCollectorManager(
                    new TopFieldCollectorManager(sort, PAGE, null, Integer.MAX_VALUE, false), facets));
        } else {
            results = searcher.search(query, new MultiCollectorManager(
                    new TopScoreDocCollectorManager(PAGE, null, Integer.MAX_VALUE, false), facets));
        }
        TopDocs top = (TopDocs) results[0];
        FacetsCollector fc = (FacetsCollector) results[1];
        SortedSetDocValuesFacetCounts counts = new SortedSetDocValuesFacetCounts(facetState, fc);
        int facetValues = 0;
        for (String dim : DIMS) {
            FacetResult r = counts.getTopChildren(50, dim);
            if (r != null) {
                facetValues += r.childCount;
            }
        }
        // Read the page's ids, as a response would.
        for (var hit : top.scoreDocs) {
            searcher.storedFields().document(hit.doc).get("id");
        }
        sink += facetValues;
        return top.totalHits.value;
    }

    /** Runs the kind's searches on THREADS threads for SECONDS; prints the result line. */
    void measure(String kind, List<Search> searches, double seconds, int threads, boolean report) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        long[][] latencies = new long[threads][];
        int[] counts = new int[threads];
        long[] hits = new long[threads];
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            final int id = t;
            workers[t] = new Thread(() -> {
                long[] lat = new long[1 << 16];
                int n = 0;
                int i = id * (searches.size() / Math.max(1, threads));
                try {
                    while (!stop.get()) {
                        Search s = searches.get(i++ % searches.size());
                        long start = System.nanoTime();
                        hits[id] += search(s);
                        if (n == lat.length) {
                            lat = Arrays.copyOf(lat, n * 2);
                        }
                        lat[n++] = System.nanoTime() - start;
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
                latencies[id] = lat;
                counts[id] = n;
            });
            workers[t].start();
        }
        long start = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        stop.set(true);
        for (Thread w : workers) {
            w.join();
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        int total = Arrays.stream(counts).sum();
        long[] all = new long[total];
        int at = 0;
        for (int t = 0; t < threads; t++) {
            System.arraycopy(latencies[t], 0, all, at, counts[t]);
            at += counts[t];
        }
        Arrays.sort(all);
        if (report && total > 0) {
            System.out.printf("RESULT kind=%s requests=%d qps=%.0f p50_ms=%.2f p99_ms=%.2f mean_hits=%.0f%n", kind, total,
                    total / elapsed, all[total / 2] / 1e6, all[Math.min(total - 1, (int) (total * 0.99))] / 1e6,
                    (double) Arrays.stream(hits).sum() / total);
        }
    }

    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]), indexDir = Path.of(args[1]);
        double seconds = Double.parseDouble(args[2]);
        int threads = Integer.parseInt(args[3]);
        index(data, indexDir);
        try (Directory dir = new MMapDirectory(indexDir); DirectoryReader reader = DirectoryReader.open(dir)) {
            IndexSearcher searcher = new IndexSearcher(reader);
            LucenePeer peer = new LucenePeer(searcher, new DefaultSortedSetDocValuesReaderState(reader, facetsConfig()));
            for (String kind : Arrays.copyOfRange(args, 4, args.length)) {
                List<Search> searches = new ArrayList<>();
                for (String line : Files.readAllLines(data.resolve("queries").resolve(kind + ".paths"))) {
                    if (!line.isBlank()) {
                        searches.add(Search.parse(line.strip()));
                    }
                }
                peer.measure(kind, searches, Math.max(3, seconds / 2), threads, false);
                peer.measure(kind, searches, seconds, threads, true);
            }
        }
    }
}
