using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace BeijingEts.Bench;

/// <summary>What the reports and verification figures send: the year's factors, a report, a verification body, and its documents.</summary>
public static class ReportsBench
{
    public static readonly string[] Industries = ["power", "heat", "cement", "services", "transport", "construction"];

    public static object Factors => new
    {
        fuels = new Dictionary<string, object>
        {
            ["natural-gas"] = new { unit = "10^4 Nm3", ncvGJPerUnit = 389.31m, carbonContentTCPerGJ = 0.01532m, oxidationRate = 0.99m },
            ["raw-coal"] = new { unit = "t", ncvGJPerUnit = 20.908m, carbonContentTCPerGJ = 0.02618m, oxidationRate = 0.94m },
            ["diesel"] = new { unit = "t", ncvGJPerUnit = 42.652m, carbonContentTCPerGJ = 0.0202m, oxidationRate = 0.98m },
        },
        electricityTCO2PerMWh = 0.5703m,
        heatTCO2PerGJ = 0.11m,
    };

    public static object Report(int i) => new
    {
        fuels = new object[]
        {
            new { fuel = "natural-gas", quantity = 100m + i % 50, unit = "10^4 Nm3" },
            new { fuel = "raw-coal", quantity = 1000m + i % 300, unit = "t" },
            new { fuel = "diesel", quantity = 20.5m, unit = "t" },
        },
        processes = new[] { new { source = "limestone calcination", emissionsT = 12.4m } },
        purchasedElectricityMWh = 2000m,
        purchasedHeatGJ = 1000m,
        nonFossilElectricityMWh = 500m,
        nonFossilEvidence = "green electricity certificates",
        activity = new[] { new { product = "clinker-t", quantity = 10_000m, unit = "t" } },
        declaration = new { signedBy = "张伟", title = "法定代表人" },
    };

    public static object Verifier => new
    {
        name = "基准核查机构",
        registeredInPrc = true,
        independentLegalPerson = true,
        fixedOffice = true,
        qualityManagement = new[] { "QM-01" },
        ghgExperience = new[] { "2023 verification of 40 units" },
        staff = new[] { "lead", "second" }.Select(id => new
        {
            id,
            name = id,
            fullTime = true,
            experienceYears = Industries.ToDictionary(i => i, _ => 5),
        }).ToArray(),
    };

    public static byte[] Pdf()
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        builder.AddPage(PageSize.A4).AddText("Verification report", 12, new UglyToad.PdfPig.Core.PdfPoint(50, 750), font);
        return builder.Build();
    }

    public static byte[] Statement(string uscc, int year, JsonElement report) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        unit = uscc,
        year,
        reportVersion = report.GetProperty("version").GetInt32(),
        directEmissionsT = report.GetProperty("directEmissionsT").GetInt64(),
        indirectEmissionsT = report.GetProperty("indirectEmissionsT").GetInt64(),
        totalEmissionsT = report.GetProperty("totalEmissionsT").GetInt64(),
        opinion = "satisfactory",
        misstatements = Array.Empty<string>(),
        nonConformities = Array.Empty<string>(),
    });

    /// <summary>Sends with a caller's token on a shared connection pool, failing on a non-success status; returns the time it took.</summary>
    public static async Task<TimeSpan> SendAsync(HttpClient http, HttpMethod method, string path, object body, string token)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var watch = Stopwatch.StartNew();
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return watch.Elapsed;
    }

    public static double Percentile(IReadOnlyCollection<TimeSpan> samples, double percentile)
    {
        var sorted = samples.Select(s => s.TotalMilliseconds).Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    /// <summary>A plain blob PUT through a signed link, as a verification body makes it.</summary>
    public static async Task UploadAsync(HttpClient http, string url, byte[] content)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(content) };
        request.Headers.Add("x-ms-blob-type", "BlockBlob");
        (await http.SendAsync(request)).EnsureSuccessStatusCode();
    }
}
