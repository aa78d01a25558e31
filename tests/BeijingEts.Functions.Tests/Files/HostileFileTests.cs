using System.IO.Compression;
using System.Text;
using BeijingEts.Functions.Files;
using BeijingEts.Functions.Uploads;
using BeijingEts.Functions.Verification;
using Microsoft.Extensions.Configuration;
using MiniExcelLibs;

namespace BeijingEts.Functions.Tests.Files;

/// <summary>
/// Files from outside (a verification body's PDF, a statistics XLSX) are read within limits: a hostile or broken one is
/// refused with a reason the sender can act on, never a crash or an out-of-memory process.
/// </summary>
public sealed class HostileFileTests
{
    private const string Xlsx = TabularFile.XlsxMediaType;

    /// <summary>A zip whose one worksheet part is <paramref name="unpacked"/> bytes of spaces: a few hundred KB packed.</summary>
    public static byte[] ZipBombXlsx(long unpacked)
    {
        var packed = new MemoryStream();
        using (var zip = new ZipArchive(packed, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var part = zip.CreateEntry("xl/worksheets/sheet1.xml", CompressionLevel.SmallestSize).Open();
            var chunk = new byte[1 << 20];
            Array.Fill(chunk, (byte)' ');
            for (long written = 0; written < unpacked; written += chunk.Length) part.Write(chunk);
        }
        return packed.ToArray();
    }

    /// <summary>A one-page PDF written by hand, with <paramref name="catalogExtra"/> in its catalog and the page content as given (Flate-encoded when asked).</summary>
    private static byte[] HandMadePdf(string catalogExtra, byte[] content, bool flate)
    {
        var objects = new List<byte[]>
        {
            Encoding.ASCII.GetBytes($"<< /Type /Catalog /Pages 2 0 R {catalogExtra} >>"),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"u8.ToArray(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << >> >>"u8.ToArray(),
            Encoding.ASCII.GetBytes($"<< /Length {content.Length}{(flate ? " /Filter /FlateDecode" : "")} >>\nstream\n").Concat(content).Concat("\nendstream"u8.ToArray()).ToArray(),
        };
        var pdf = new MemoryStream();
        void Write(string text) => pdf.Write(Encoding.ASCII.GetBytes(text));
        Write("%PDF-1.7\n");
        var offsets = new List<long>();
        for (var i = 0; i < objects.Count; i++)
        {
            offsets.Add(pdf.Position);
            Write($"{i + 1} 0 obj\n");
            pdf.Write(objects[i]);
            Write("\nendobj\n");
        }
        var xref = pdf.Position;
        Write($"xref\n0 {objects.Count + 1}\n0000000000 65535 f \n");
        foreach (var offset in offsets) Write($"{offset:D10} 00000 n \n");
        Write($"trailer\n<< /Size {objects.Count + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n");
        return pdf.ToArray();
    }

    /// <summary>Page content that draws a line: needs no font, so the hand-made page is complete.</summary>
    private static readonly byte[] Text = "0 0 m 100 100 l S"u8.ToArray();

    private static byte[] Zlib(long zeros)
    {
        var packed = new MemoryStream();
        using (var zlib = new ZLibStream(packed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var chunk = new byte[1 << 20];
            for (long written = 0; written < zeros; written += chunk.Length) zlib.Write(chunk);
        }
        return packed.ToArray();
    }

    [Fact]
    public void AnOrdinaryPdf_PassesWithinTheDefaultLimits()
    {
        Assert.Null(VerificationDocumentChecks.PdfProblem(Tests.Verification.VerificationClient.Pdf(), PdfLimits.Default));
        Assert.Null(VerificationDocumentChecks.PdfProblem(HandMadePdf("", Text, flate: false), PdfLimits.Default));
    }

    [Fact]
    public void APdfWhoseStreamUnpacksPastTheBudget_IsRefusedBeforeItIsInflated()
    {
        var bomb = HandMadePdf("", Zlib(64L * 1024 * 1024), flate: true);
        Assert.True(bomb.Length < 512 * 1024);

        var problem = VerificationDocumentChecks.PdfProblem(bomb, PdfLimits.Default with { MaxDecodedBytes = 8 * 1024 * 1024 });

        Assert.Contains("unpack to more than 8 MB", problem);
    }

    [Fact]
    public void APdfWithObjectsNestedDeeperThanTheLimit_IsRefused_NotAStackOverflow()
    {
        const int depth = 100_000;
        var nested = new string('[', depth) + new string(']', depth);

        var problem = VerificationDocumentChecks.PdfProblem(HandMadePdf("/Deep " + nested, Text, flate: false), PdfLimits.Default);

        Assert.NotNull(problem);
        Assert.Contains("PDF", problem);
    }

    [Fact]
    public void ATruncatedPdf_OrOneOutOfTime_IsRefusedWithTheReason()
    {
        var pdf = Tests.Verification.VerificationClient.Pdf();

        Assert.Contains("not a readable PDF", VerificationDocumentChecks.PdfProblem(pdf[..(pdf.Length / 3)], PdfLimits.Default));
        Assert.Contains("took longer than 0 seconds", VerificationDocumentChecks.PdfProblem(pdf, PdfLimits.Default with { MaxTime = TimeSpan.Zero }));
        Assert.Contains("more than the 0 a verification report may have", VerificationDocumentChecks.PdfProblem(pdf, PdfLimits.Default with { MaxPages = 0 }));
    }

    [Fact]
    public void AZipBombXlsx_IsRefusedWithoutUnpackingIt()
    {
        var bomb = ZipBombXlsx(256L * 1024 * 1024);
        Assert.True(bomb.Length < 1024 * 1024);

        var (file, error) = TabularFile.Read(bomb, Xlsx);

        Assert.Null(file);
        Assert.Contains("unpacks to more than 64 MB", error);
    }

    [Fact]
    public void ATableOverItsRowOrColumnLimit_OrOutOfTime_IsRefusedWithTheLimit()
    {
        var limits = TabularLimits.Default with { MaxRows = 3, MaxColumns = 4 };
        var rows = Enumerable.Range(0, 5).Select(i => new Dictionary<string, object> { ["uscc"] = $"u{i}", ["name"] = "n" }).ToList();
        var workbook = new MemoryStream();
        workbook.SaveAs(rows, excelType: ExcelType.XLSX);

        Assert.Contains("more than 3 rows", TabularFile.Read(workbook.ToArray(), Xlsx, limits).Error);
        Assert.Contains("more than 3 rows", TabularFile.Read("uscc,name\na,b\nc,d\ne,f\ng,h\n"u8.ToArray(), TabularFile.CsvMediaType, limits).Error);
        Assert.Contains("5 columns", TabularFile.Read("a,b,c,d,e\n1,2,3,4,5\n"u8.ToArray(), TabularFile.CsvMediaType, limits).Error);
        Assert.Contains("took longer than 0 seconds", TabularFile.Read(workbook.ToArray(), Xlsx, limits with { MaxTime = TimeSpan.Zero }).Error);
        Assert.Equal(5, TabularFile.Read(workbook.ToArray(), Xlsx, limits with { MaxRows = 5 }).File!.Rows.Count);
    }

    [Fact]
    public void UploadLinks_LiveAtMostADay()
    {
        static UploadSettings From(string? lifetime) =>
            UploadSettings.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Ets:Uploads:LinkLifetime"] = lifetime }).Build());

        Assert.Equal(TimeSpan.FromHours(24), From(null).LinkLifetime);
        Assert.Throws<InvalidOperationException>(() => From("1.00:00:01"));
    }
}
