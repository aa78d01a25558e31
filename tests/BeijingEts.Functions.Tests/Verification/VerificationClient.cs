using BeijingEts.Functions.Tests.Lists;
using BeijingEts.Functions.Tests.Reporting;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace BeijingEts.Functions.Tests.Verification;

/// <summary>A key unit with a submitted report, an eligible verification body, and what a body does with its links.</summary>
public sealed class VerificationClient(EtsAppFixture app)
{
    public ReportingClient Reporting { get; } = new(app);
    public HttpClient Regulator => Reporting.Regulator;
    public static int Year => ReportingClient.CurrentYear - 1;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A bare client, as anyone holding a signed link uses it.</summary>
    public static readonly HttpClient Anonymous = new();

    public sealed record Reported(string Uscc, int Version, long Direct, long Indirect, long Total);

    public async Task<Reported> ReportedKeyUnitAsync()
    {
        await Reporting.SetFactorsAsync(Year);
        var uscc = await Reporting.ListedUnitAsync(Year);
        var report = await Reporting.SubmitAsync(uscc, Year, ReportingClient.Report());
        return new Reported(uscc, report.GetProperty("version").GetInt32(), report.GetProperty("directEmissionsT").GetInt64(),
            report.GetProperty("indirectEmissionsT").GetInt64(), report.GetProperty("totalEmissionsT").GetInt64());
    }

    /// <summary>Records a verification body that meets Art. 24 for cement units, with "lead" able to lead.</summary>
    public async Task<string> EligibleVerifierAsync(bool registeredInPrc = true)
    {
        var uscc = TestUnits.NewUscc();
        var body = new
        {
            name = "北京某核查机构",
            registeredInPrc,
            independentLegalPerson = true,
            fixedOffice = true,
            qualityManagement = new[] { "QM-2024-01 personnel" },
            ghgExperience = new[] { "2023 Beijing verification of 12 units" },
            staff = new object[]
            {
                new { id = "lead", name = "李", fullTime = true, experienceYears = new Dictionary<string, int> { ["cement"] = 5 } },
                new { id = "second", name = "王", fullTime = true, experienceYears = new Dictionary<string, int> { ["cement"] = 2 } },
            },
        };
        var put = await Regulator.PutAsJsonAsync($"/api/verifiers/{uscc}", body, Ct);
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync(Ct));
        return uscc;
    }

    public Task<HttpResponseMessage> EngageAsync(string unit, string verifier, string lead = "lead") =>
        app.Client("unit", unit).PostAsJsonAsync($"/api/units/{unit}/reports/{Year}/verification", new { verifier, leadVerifier = lead }, Ct);

    /// <summary>The unit engages the body; the answer is the engagement (no links).</summary>
    public async Task<JsonElement> EngagementAsync(string unit, string verifier)
    {
        var response = await EngageAsync(unit, verifier);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    /// <summary>Asks for an engagement's upload links as <paramref name="client"/> (the body's own verifier token when null).</summary>
    public Task<HttpResponseMessage> RequestLinksAsync(string verifier, string engagementId, HttpClient? client = null) =>
        (client ?? app.Client("verifier", verifier)).PostAsync($"/api/verifiers/{verifier}/engagements/{engagementId}/links", null, Ct);

    /// <summary>The unit engages the body, and the body obtains the upload links with its own token.</summary>
    public async Task<JsonElement> LinksAsync(string unit, string verifier)
    {
        var engagement = await EngagementAsync(unit, verifier);
        var response = await RequestLinksAsync(verifier, engagement.GetProperty("engagementId").GetString()!);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    /// <summary>A plain blob PUT, as any HTTP client can make it.</summary>
    public static Task<HttpResponseMessage> UploadAsync(string url, byte[] content, string contentType)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(content) };
        request.Headers.Add("x-ms-blob-type", "BlockBlob");
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        return Anonymous.SendAsync(request, Ct);
    }

    public static Task<HttpResponseMessage> UploadAsync(JsonElement links, string link, byte[] content, string contentType) =>
        UploadAsync(links.GetProperty(link).GetString()!, content, contentType);

    public static byte[] Pdf(string text = "Verification report")
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        builder.AddPage(PageSize.A4).AddText(text, 12, new UglyToad.PdfPig.Core.PdfPoint(50, 750), font);
        return builder.Build();
    }

    public static byte[] Statement(Reported report, long? total = null, string? unit = null, int? year = null, string opinion = "satisfactory")
    {
        var sum = total ?? report.Total;
        return JsonSerializer.SerializeToUtf8Bytes(new
        {
            unit = unit ?? report.Uscc,
            year = year ?? Year,
            reportVersion = report.Version,
            directEmissionsT = sum - report.Indirect,
            indirectEmissionsT = report.Indirect,
            totalEmissionsT = sum,
            opinion,
            misstatements = Array.Empty<string>(),
            nonConformities = new[] { "Meter calibration record for boiler 2 missing" },
        });
    }

    public Task<JsonElement> StatusAsync(string unit, HttpClient? client = null) =>
        (client ?? Regulator).GetFromJsonAsync<JsonElement>($"/api/units/{unit}/reports/{Year}/verification", Ct);

    /// <summary>Waits until the uploads are processed: the status is no longer awaiting-upload.</summary>
    public async Task<JsonElement> SettledAsync(string unit)
    {
        JsonElement status = default;
        await Eventually.HoldsAsync(async () =>
        {
            status = await StatusAsync(unit);
            return status.GetProperty("status").GetString() != "awaiting-upload";
        }, $"unit {unit}'s verification uploads are processed");
        return status;
    }
}
