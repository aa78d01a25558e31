using System.IO.Compression;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Filters;
using UglyToad.PdfPig.Tokens;

namespace BeijingEts.Functions.Verification;

/// <summary>
/// How much reading one uploaded PDF may cost: pages, nesting of objects, bytes its streams decode to, and time. A file
/// past any of them is refused with the reason, so a hostile file (a decompression bomb, objects nested until the stack
/// overflows, a page tree that never ends) cannot take the process down.
/// </summary>
public sealed record PdfLimits(int MaxPages, int MaxNesting, long MaxDecodedBytes, TimeSpan MaxTime)
{
    // 32 MB decoded covers a report page's content and embedded CJK fonts; every decoded byte of text becomes a glyph object,
    // so the budget also bounds the memory a page of one huge string can take.
    public static readonly PdfLimits Default = new(2000, 64, 32L * 1024 * 1024, TimeSpan.FromSeconds(30));
}

/// <summary>A limit a PDF went past while being read; its message says which, for the body to act on.</summary>
public sealed class PdfLimitException(string message) : Exception(message);

/// <summary>Opens PDFs for checking with PdfPig, within <see cref="PdfLimits"/>.</summary>
public static class BoundedPdf
{
    /// <summary>Opens the document; every stream it decodes afterwards counts against the same budget and deadline.</summary>
    public static PdfDocument Open(byte[] content, PdfLimits limits, CancellationToken deadline)
    {
        var budget = new DecodeBudget(limits.MaxDecodedBytes, deadline);
        var document = PdfDocument.Open(content, new ParsingOptions
        {
            UseLenientParsing = true,
            MaxStackDepth = limits.MaxNesting,
            FilterProvider = new BoundedFilterProvider(DefaultFilterProvider.Instance, budget),
        });
        deadline.ThrowIfCancellationRequested();
        if (document.NumberOfPages > limits.MaxPages)
        {
            document.Dispose();
            throw new PdfLimitException($"it has {document.NumberOfPages} pages, more than the {limits.MaxPages} a verification report may have");
        }
        return document;
    }

    private sealed class DecodeBudget(long maxBytes, CancellationToken deadline)
    {
        private long _spent;

        /// <summary>Takes <paramref name="bytes"/> from what is left, or refuses the file.</summary>
        public void Spend(long bytes)
        {
            deadline.ThrowIfCancellationRequested();
            if (Interlocked.Add(ref _spent, bytes) > maxBytes) throw new PdfLimitException($"its compressed streams unpack to more than {maxBytes / (1024 * 1024)} MB");
        }

        public long Left => Math.Max(0, maxBytes - Volatile.Read(ref _spent));

        public CancellationToken Deadline => deadline;
    }

    private sealed class BoundedFilterProvider(IFilterProvider inner, DecodeBudget budget) : IFilterProvider
    {
        public IReadOnlyList<IFilter> GetFilters(DictionaryToken dictionary) => Wrap(inner.GetFilters(dictionary));

        public IReadOnlyList<IFilter> GetNamedFilters(IReadOnlyList<NameToken> names) => Wrap(inner.GetNamedFilters(names));

        public IReadOnlyList<IFilter> GetAllFilters() => Wrap(inner.GetAllFilters());

        private List<IFilter> Wrap(IReadOnlyList<IFilter> filters) => filters.Select(f => (IFilter)new BoundedFilter(f, budget)).ToList();
    }

    /// <summary>
    /// Counts what a stream will decode to before decoding it where that can be done cheaply (Flate, RunLength), and
    /// refuses one that would not fit; LZW, whose worst case is about 2,700 times its input, is bounded by that worst case.
    /// </summary>
    private sealed class BoundedFilter(IFilter inner, DecodeBudget budget) : IFilter
    {
        private const int LzwWorstRatio = 2731;

        public bool IsSupported => inner.IsSupported;

        public Memory<byte> Decode(Memory<byte> input, DictionaryToken streamDictionary, IFilterProvider filterProvider, int filterIndex)
        {
            budget.Deadline.ThrowIfCancellationRequested();
            switch (inner)
            {
                case FlateFilter:
                    budget.Spend(InflatedLength(input, budget.Left + 1));
                    return inner.Decode(input, streamDictionary, filterProvider, filterIndex);
                case RunLengthFilter:
                    budget.Spend(RunLengthDecodedLength(input.Span));
                    return inner.Decode(input, streamDictionary, filterProvider, filterIndex);
                case LzwFilter when (long)input.Length * LzwWorstRatio > budget.Left:
                    throw new PdfLimitException($"an LZW-compressed stream of {input.Length} bytes could unpack to more than the document's budget");
                default:
                    var output = inner.Decode(input, streamDictionary, filterProvider, filterIndex);
                    budget.Spend(output.Length);
                    return output;
            }
        }

        /// <summary>
        /// How many bytes the zlib stream inflates to, counting no further than <paramref name="cap"/>; PdfPig's Flate filter
        /// skips the two header bytes and inflates the rest, and so does this. A corrupt stream counts what inflated before it broke.
        /// </summary>
        private long InflatedLength(Memory<byte> input, long cap)
        {
            if (input.Length < 2) return 0;
            using var deflate = new DeflateStream(new MemoryStream(input[2..].ToArray(), writable: false), CompressionMode.Decompress);
            var buffer = new byte[81920];
            long total = 0;
            try
            {
                int read;
                while (total < cap && (read = deflate.Read(buffer)) > 0)
                {
                    total += read;
                    budget.Deadline.ThrowIfCancellationRequested();
                }
            }
            catch (InvalidDataException)
            {
                // the filter itself will say what is wrong with it
            }
            return total;
        }

        /// <summary>The length RunLengthDecode (PDF 32000 7.4.5) produces: a length byte n &lt; 128 copies n+1 bytes, n &gt; 128 repeats one byte 257-n times, 128 ends.</summary>
        private static long RunLengthDecodedLength(ReadOnlySpan<byte> input)
        {
            long total = 0;
            for (var i = 0; i < input.Length;)
            {
                var n = input[i];
                if (n == 128) break;
                if (n < 128)
                {
                    total += n + 1;
                    i += n + 2;
                }
                else
                {
                    total += 257 - n;
                    i += 2;
                }
            }
            return total;
        }
    }
}
