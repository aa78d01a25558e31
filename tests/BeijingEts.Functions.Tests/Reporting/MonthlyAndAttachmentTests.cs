using System.Security.Cryptography;
using BeijingEts.Functions.Tests.Verification;

namespace BeijingEts.Functions.Tests.Reporting;

public sealed class MonthlyAndAttachmentFixture : EtsAppFixture;

/// <summary>Art. 21-22: key and civil-aviation units' monthly data, and the supporting documents of annual reports.</summary>
public sealed class MonthlyAndAttachmentTests(MonthlyAndAttachmentFixture app) : IClassFixture<MonthlyAndAttachmentFixture>
{
    private readonly ReportingClient _reporting = new(app);
    private static int Year => ReportingClient.CurrentYear - 1;
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private static object Month(decimal gas = 8, decimal electricity = 150) => new
    {
        fuels = new[] { new { fuel = "natural-gas", quantity = gas, unit = "10^4 Nm3" } },
        purchasedElectricityMWh = electricity,
        activity = new[] { new { product = "clinker-t", quantity = 800m, unit = "t" } },
        supportingMaterials = new[] { "gas invoices 2025-03 (attachment 7f3a)", "meter readings export" },
    };

    private Task<HttpResponseMessage> PutMonthAsync(string uscc, string month, object body) =>
        app.Client("unit", uscc).PutAsJsonAsync($"/api/units/{uscc}/monthly/{month}", body, Ct);

    [Fact]
    public async Task AKeyUnitsMonthlyData_IsComputed_AndKeptByRevision_WithTheGapsOfTheYearMarked()
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year);

        var first = await PutMonthAsync(uscc, $"{Year}-03", Month());
        var second = await PutMonthAsync(uscc, $"{Year}-03", Month(gas: 10));
        Assert.Equal(HttpStatusCode.Created, (await PutMonthAsync(uscc, $"{Year}-04", Month())).StatusCode);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var corrected = await second.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(2, corrected.GetProperty("revision").GetInt32());
        // 10 × 389.31 × 0.01532 × 0.99 × 44/12 = 216.51 t direct; 150 × 0.5703 = 85.55 t indirect
        Assert.Equal(217, corrected.GetProperty("directEmissionsT").GetInt64());
        Assert.Equal(86, corrected.GetProperty("indirectEmissionsT").GetInt64());
        var latest = await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/monthly/{Year}-03", Ct);
        Assert.Equal(2, latest.GetProperty("revision").GetInt32());
        var original = await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/monthly/{Year}-03?revision=1", Ct);
        Assert.Equal(8m, original.GetProperty("fuels")[0].GetProperty("quantity").GetDecimal());

        var year = await app.Client("district", "朝阳区").GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/monthly?year={Year}", Ct);
        var months = year.GetProperty("months").EnumerateArray().ToList();
        Assert.Equal(12, months.Count);
        Assert.Equal("reported", months[2].GetProperty("status").GetString());
        Assert.Equal("missing", months[0].GetProperty("status").GetString());
        var gaps = year.GetProperty("gaps").EnumerateArray().Select(g => g.GetString()).ToList();
        Assert.Equal(10, gaps.Count);
        Assert.DoesNotContain($"{Year}-03", gaps);
        Assert.Contains($"{Year}-12", gaps);
    }

    [Fact]
    public async Task MonthsNotYetEnded_AreNotGaps_AndCannotBeReported()
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year);
        var now = DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8));
        var thisMonth = $"{now.Year}-{now.Month:D2}";

        var early = await PutMonthAsync(uscc, thisMonth, Month());

        Assert.Contains("once the month has ended", (await early.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        var year = await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/monthly?year={now.Year}", Ct);
        var months = year.GetProperty("months").EnumerateArray().ToList();
        Assert.All(months.Skip(now.Month - 1), m => Assert.Equal("not-yet-due", m.GetProperty("status").GetString()));
        Assert.All(months.Take(now.Month - 1), m => Assert.Equal("missing", m.GetProperty("status").GetString()));
        Assert.Equal(now.Month - 1, year.GetProperty("gaps").GetArrayLength());
    }

    [Fact]
    public async Task BadMonthlyData_IsRefused_AndNothingIsWritten()
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year);
        var general = await _reporting.ListedUnitAsync(Year, key: false);
        var aviation = await _reporting.ListedUnitAsync(Year, key: false, industry: "aviation");

        var negative = await PutMonthAsync(uscc, $"{Year}-05", new { fuels = new[] { new { fuel = "diesel", quantity = -1m, unit = "t" } } });
        var notAMonth = await PutMonthAsync(uscc, $"{Year}-13", Month());

        var problem = await negative.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("'diesel' is not a fuel", problem.Detail);
        Assert.Contains("cannot be negative", problem.Detail);
        Assert.Contains("is not a month", (await notAMonth.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        Assert.Equal(HttpStatusCode.NotFound, (await _reporting.Regulator.GetAsync($"/api/units/{uscc}/monthly/{Year}-05", Ct)).StatusCode);
        Assert.Contains("not a key unit or a civil-aviation unit", (await (await PutMonthAsync(general, $"{Year}-05", Month())).AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Equal(HttpStatusCode.Created, (await PutMonthAsync(aviation, $"{Year}-05", Month())).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("unit", general).GetAsync($"/api/units/{uscc}/monthly?year={Year}", Ct)).StatusCode);
    }

    [Fact]
    public async Task AnAttachmentLink_TakesOneDocument_WhichIsHashedKeptAndReadable()
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year);
        var unit = app.Client("unit", uscc);

        var issued = await unit.PostAsJsonAsync($"/api/units/{uscc}/reports/{Year}/attachments", new { fileName = "燃气发票 2025.xlsx", description = "gas invoices" }, Ct);
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        var link = await issued.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var content = "fuel invoices, one row per invoice"u8.ToArray();
        Assert.Equal(HttpStatusCode.Created, (await VerificationClient.UploadAsync(link.GetProperty("uploadUrl").GetString()!, content, "application/octet-stream")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await VerificationClient.UploadAsync(link.GetProperty("uploadUrl").GetString()!, "replaced"u8.ToArray(), "application/octet-stream")).StatusCode);

        JsonElement attachment = default;
        await Eventually.HoldsAsync(async () =>
        {
            attachment = (await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/reports/{Year}/attachments", Ct))[0];
            return attachment.GetProperty("attachment").GetProperty("status").GetString() == "received";
        }, "the attachment is filed");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), attachment.GetProperty("attachment").GetProperty("sha256").GetString());
        Assert.Equal("燃气发票 2025.xlsx", attachment.GetProperty("attachment").GetProperty("fileName").GetString());
        var download = await VerificationClient.Anonymous.GetByteArrayAsync(attachment.GetProperty("downloadUrl").GetString(), Ct);
        Assert.Equal(content, download);
    }

    [Fact]
    public async Task AttachmentLinks_AreForTheUnitsOwnEndedYear_WithAUsableFileName()
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year);
        var unit = app.Client("unit", uscc);

        var badName = await unit.PostAsJsonAsync($"/api/units/{uscc}/reports/{Year}/attachments", new { fileName = "../other/x.pdf" }, Ct);
        var early = await unit.PostAsJsonAsync($"/api/units/{uscc}/reports/{Year + 1}/attachments", new { fileName = "x.pdf" }, Ct);
        var regulator = await _reporting.Regulator.PostAsJsonAsync($"/api/units/{uscc}/reports/{Year}/attachments", new { fileName = "x.pdf" }, Ct);

        Assert.Contains("without /", (await badName.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        await early.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(HttpStatusCode.Forbidden, regulator.StatusCode);
        Assert.Empty((await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/reports/{Year}/attachments", Ct)).EnumerateArray());
    }
}
