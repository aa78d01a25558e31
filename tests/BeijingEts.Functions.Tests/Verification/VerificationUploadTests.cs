using System.Security.Cryptography;
using BeijingEts.Functions.Tests.Lists;
using static BeijingEts.Functions.Tests.Verification.VerificationClient;

namespace BeijingEts.Functions.Tests.Verification;

public sealed class VerificationUploadFixture : EtsAppFixture;

/// <summary>Art. 21, 24: a key unit engages an eligible body, which uploads its report and statement through signed links.</summary>
public sealed class VerificationUploadTests(VerificationUploadFixture app) : IClassFixture<VerificationUploadFixture>
{
    private readonly VerificationClient _verification = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BothDocumentsUploaded_AreAccepted_WithHashesAndDownloadLinks_AndTheVerifiedTotalCanBeConfirmed()
    {
        var report = await _verification.ReportedKeyUnitAsync();
        var verifier = await _verification.EligibleVerifierAsync();
        var links = await _verification.LinksAsync(report.Uscc, verifier);
        Assert.Equal(report.Version, links.GetProperty("reportVersion").GetInt32());
        Assert.InRange(links.GetProperty("expiresOn").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddHours(23.9), DateTimeOffset.UtcNow.AddHours(24));
        var awaiting = await _verification.StatusAsync(report.Uscc);
        Assert.Equal("awaiting-upload", awaiting.GetProperty("status").GetString());

        var pdf = Pdf();
        var statement = Statement(report);
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(links, "reportUploadUrl", pdf, "application/pdf")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(links, "statementUploadUrl", statement, "application/json")).StatusCode);

        var status = await _verification.SettledAsync(report.Uscc);
        Assert.Equal("accepted", status.GetProperty("status").GetString());
        Assert.Equal(report.Total, status.GetProperty("verifiedEmissionsT").GetInt64());
        Assert.False(status.GetProperty("flagged").GetBoolean());
        var documents = status.GetProperty("documents").EnumerateArray().ToDictionary(d => d.GetProperty("kind").GetString()!);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(pdf)), documents["report"].GetProperty("sha256").GetString());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(statement)), documents["statement"].GetProperty("sha256").GetString());
        Assert.True(DateOnly.Parse(documents["report"].GetProperty("retainUntil").GetString()!) >= DateOnly.FromDateTime(DateTime.UtcNow).AddYears(5));
        var download = await Anonymous.GetAsync(documents["report"].GetProperty("downloadUrl").GetString(), Ct);
        Assert.Equal(pdf, await download.Content.ReadAsByteArrayAsync(Ct));
        var kept = app.Storage.Container(StorageNames.Containers.Uploads).GetBlobClient($"verification/{report.Uscc}/{Year}/{links.GetProperty("engagementId").GetString()}/statement.json");
        Assert.Equal(statement, (await kept.DownloadContentAsync(Ct)).Value.Content.ToArray());

        var unitView = await _verification.StatusAsync(report.Uscc, app.Client("unit", report.Uscc));
        Assert.Equal("accepted", unitView.GetProperty("status").GetString());
        // The unit and the body are both told (the notice follows the record: wait for it).
        var engagement = links.GetProperty("engagementId").GetString();
        foreach (var party in new[] { app.Client("unit", report.Uscc), app.Client("verifier", verifier) })
        {
            await Eventually.HoldsAsync(async () => (await party.NoticeAsync($"verification-{Year}-{report.Uscc}-{engagement}"))?.GetProperty("kind").GetString() == "verification.accepted",
                "the verification's acceptance is in the party's inbox");
        }
        var confirm = await _verification.Regulator.PostAsJsonAsync($"/api/units/{report.Uscc}/reports/{Year}/confirmation",
            new { confirmedEmissions = report.Total, basis = "verified" }, Ct);
        Assert.True(confirm.IsSuccessStatusCode, await confirm.Content.ReadAsStringAsync(Ct));

        var evaluation = new { unit = report.Uscc, year = Year, score = 86, notes = "complete sampling; one calibration gap found" };
        Assert.Equal(HttpStatusCode.Created, (await _verification.Regulator.PostAsJsonAsync($"/api/verifiers/{verifier}/evaluations", evaluation, Ct)).StatusCode);
        var twice = await _verification.Regulator.PostAsJsonAsync($"/api/verifiers/{verifier}/evaluations", evaluation, Ct);
        await twice.AssertProblemAsync(HttpStatusCode.Conflict);
        var history = await _verification.Regulator.GetFromJsonAsync<JsonElement>($"/api/verifiers/{verifier}", Ct);
        Assert.Equal(86, history.GetProperty("evaluations")[0].GetProperty("score").GetInt32());
        Assert.Equal(links.GetProperty("engagementId").GetString(), history.GetProperty("evaluations")[0].GetProperty("engagement").GetString());
        Assert.Equal(86m, history.GetProperty("averageScore").GetDecimal());
    }

    [Fact]
    public async Task AnEvaluation_NeedsAProcessedEngagementOfThatBody_AndAScoreFrom0To100()
    {
        var report = await _verification.ReportedKeyUnitAsync();
        var verifier = await _verification.EligibleVerifierAsync();
        var other = await _verification.EligibleVerifierAsync();
        await _verification.LinksAsync(report.Uscc, verifier);

        var outOfRange = await _verification.Regulator.PostAsJsonAsync($"/api/verifiers/{verifier}/evaluations", new { unit = report.Uscc, year = Year, score = 101, notes = "x" }, Ct);
        var notTheirs = await _verification.Regulator.PostAsJsonAsync($"/api/verifiers/{other}/evaluations", new { unit = report.Uscc, year = Year, score = 80, notes = "x" }, Ct);
        var pending = await _verification.Regulator.PostAsJsonAsync($"/api/verifiers/{verifier}/evaluations", new { unit = report.Uscc, year = Year, score = 80, notes = "x" }, Ct);

        Assert.Contains("from 0 to 100", (await outOfRange.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        Assert.Contains("has no engagement", (await notTheirs.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Contains("awaiting its uploads", (await pending.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Empty((await _verification.Regulator.GetFromJsonAsync<JsonElement>($"/api/verifiers/{verifier}", Ct)).GetProperty("evaluations").EnumerateArray());
    }

    [Fact]
    public async Task ALink_WritesOnlyItsOwnPathOnce_AndCannotReadOrList()
    {
        var report = await _verification.ReportedKeyUnitAsync();
        var links = await _verification.LinksAsync(report.Uscc, await _verification.EligibleVerifierAsync());
        var url = new Uri(links.GetProperty("reportUploadUrl").GetString()!);
        var pdf = Pdf();

        var otherPath = new UriBuilder(url) { Path = url.AbsolutePath.Replace("report.pdf", "other.pdf", StringComparison.Ordinal) }.Uri.ToString();
        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(otherPath, pdf, "application/pdf")).StatusCode);
        var containerPath = url.AbsolutePath[..url.AbsolutePath.IndexOf("/verification/", StringComparison.Ordinal)];
        var list = new UriBuilder(url) { Path = containerPath, Query = url.Query.TrimStart('?') + "&restype=container&comp=list" }.Uri;
        Assert.Equal(HttpStatusCode.Forbidden, (await Anonymous.GetAsync(list, Ct)).StatusCode);

        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(url.ToString(), pdf, "application/pdf")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Anonymous.GetAsync(url, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(url.ToString(), Pdf("a replacement"), "application/pdf")).StatusCode);

        await Eventually.HoldsAsync(async () => (await _verification.StatusAsync(report.Uscc)).GetProperty("documents").GetArrayLength() == 1, "the report is filed");
        var filed = (await _verification.StatusAsync(report.Uscc)).GetProperty("documents")[0];
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(pdf)), filed.GetProperty("sha256").GetString());
        Assert.Equal("awaiting-upload", (await _verification.StatusAsync(report.Uscc)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task AStatementForAnotherUnitOrYear_IsRejectedWithItsReason_AndNewLinksCanBeIssued()
    {
        var report = await _verification.ReportedKeyUnitAsync();
        var verifier = await _verification.EligibleVerifierAsync();
        var links = await _verification.LinksAsync(report.Uscc, verifier);
        var other = TestUnits.NewUscc();

        await UploadAsync(links, "statementUploadUrl", Statement(report, unit: other, year: Year - 1), "application/json");

        var status = await _verification.SettledAsync(report.Uscc);
        Assert.Equal("rejected", status.GetProperty("status").GetString());
        var reason = status.GetProperty("reason").GetString()!;
        Assert.Contains($"names unit {other}", reason);
        Assert.Contains($"is for {Year - 1}", reason);
        await Eventually.HoldsAsync(async () => (await app.Client("verifier", verifier).NoticeAsync($"verification-{Year}-{report.Uscc}-{links.GetProperty("engagementId").GetString()}"))
            ?.GetProperty("bodyEn").GetString()?.Contains($"is for {Year - 1}", StringComparison.Ordinal) == true, "the body is told why it was rejected");
        Assert.Equal(JsonValueKind.Null, status.GetProperty("verifiedEmissionsT").ValueKind);

        var again = await _verification.LinksAsync(report.Uscc, verifier);
        Assert.NotEqual(links.GetProperty("engagementId").GetString(), again.GetProperty("engagementId").GetString());
        var renewed = await _verification.StatusAsync(report.Uscc);
        Assert.Equal("awaiting-upload", renewed.GetProperty("status").GetString());
        Assert.Empty(renewed.GetProperty("documents").EnumerateArray());
    }

    [Fact]
    public async Task AReportThatIsNotAPdf_IsRejected()
    {
        var report = await _verification.ReportedKeyUnitAsync();
        var links = await _verification.LinksAsync(report.Uscc, await _verification.EligibleVerifierAsync());

        await UploadAsync(links, "reportUploadUrl", "<html>not a pdf</html>"u8.ToArray(), "application/pdf");

        var status = await _verification.SettledAsync(report.Uscc);
        Assert.Equal("rejected", status.GetProperty("status").GetString());
        Assert.Contains("not a PDF", status.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task ATruncatedPdf_IsRejectedWithTheReason()
    {
        var report = await _verification.ReportedKeyUnitAsync();
        var links = await _verification.LinksAsync(report.Uscc, await _verification.EligibleVerifierAsync());
        var pdf = Pdf();

        await UploadAsync(links, "reportUploadUrl", pdf[..(pdf.Length / 3)], "application/pdf");

        var status = await _verification.SettledAsync(report.Uscc);
        Assert.Equal("rejected", status.GetProperty("status").GetString());
        Assert.Contains("not a readable PDF", status.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task AStatementThatDoesNotAddUpOrHasTheWrongShape_IsRejected()
    {
        var report = await _verification.ReportedKeyUnitAsync();
        var links = await _verification.LinksAsync(report.Uscc, await _verification.EligibleVerifierAsync());
        var wrong = JsonSerializer.SerializeToUtf8Bytes(new
        {
            unit = report.Uscc, year = Year, reportVersion = report.Version, directEmissionsT = 100, indirectEmissionsT = 50, totalEmissionsT = 160,
            opinion = "satisfactory", misstatements = Array.Empty<string>(), nonConformities = Array.Empty<string>(),
        });

        await UploadAsync(links, "statementUploadUrl", wrong, "application/json");

        var reason = (await _verification.SettledAsync(report.Uscc)).GetProperty("reason").GetString()!;
        Assert.Contains("do not add up", reason);

        var again = await _verification.LinksAsync(report.Uscc, await _verification.EligibleVerifierAsync());
        await UploadAsync(again, "statementUploadUrl", "{\"unit\": 1}"u8.ToArray(), "application/json");
        var shape = (await _verification.SettledAsync(report.Uscc)).GetProperty("reason").GetString()!;
        Assert.Contains("statement is not valid", shape);
    }

    [Fact]
    public async Task AVerifiedTotalFarFromTheReportedOne_IsAccepted_ButFlaggedForTheRegulator()
    {
        var report = await _verification.ReportedKeyUnitAsync();
        var links = await _verification.LinksAsync(report.Uscc, await _verification.EligibleVerifierAsync());
        var verified = report.Total + report.Total / 10;

        await UploadAsync(links, "reportUploadUrl", Pdf(), "application/pdf");
        await UploadAsync(links, "statementUploadUrl", Statement(report, total: verified, opinion: "with-comments"), "application/json");

        var status = await _verification.SettledAsync(report.Uscc);
        Assert.Equal("accepted", status.GetProperty("status").GetString());
        Assert.True(status.GetProperty("flagged").GetBoolean());
        Assert.Equal(verified, status.GetProperty("verifiedEmissionsT").GetInt64());
        Assert.Contains("over the 5% threshold", status.GetProperty("reason").GetString());
        Assert.Equal("with-comments", status.GetProperty("statement").GetProperty("opinion").GetString());
    }

    [Fact]
    public async Task AnIneligibleBody_IsRefusedWithEveryReason_AndNoLinksAreIssued()
    {
        var report = await _verification.ReportedKeyUnitAsync();
        var verifier = await _verification.EligibleVerifierAsync(registeredInPrc: false);

        var refused = await _verification.EngageAsync(report.Uscc, verifier, lead: "second");

        var problem = await refused.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("Art. 24 (1)", problem.Detail);
        Assert.Contains("lead verifier second", problem.Detail);
        Assert.Equal(HttpStatusCode.NotFound, (await _verification.Regulator.GetAsync($"/api/units/{report.Uscc}/reports/{Year}/verification", Ct)).StatusCode);
    }

    [Fact]
    public async Task OnlyTheUnitsOwnKeyReport_CanBeSentForVerification_AndOnlyItsReadersSeeIt()
    {
        var report = await _verification.ReportedKeyUnitAsync();
        var verifier = await _verification.EligibleVerifierAsync();
        var general = await _verification.Reporting.ListedUnitAsync(Year, key: false);
        await _verification.Reporting.SubmitAsync(general, Year, Reporting.ReportingClient.Report());
        var unreported = await _verification.Reporting.ListedUnitAsync(Year);

        Assert.Contains("not a key unit", (await (await _verification.EngageAsync(general, verifier)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Contains("has not reported", (await (await _verification.EngageAsync(unreported, verifier)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        var someoneElse = await app.Client("unit", general).PostAsJsonAsync($"/api/units/{report.Uscc}/reports/{Year}/verification", new { verifier, leadVerifier = "lead" }, Ct);
        Assert.Equal(HttpStatusCode.NotFound, someoneElse.StatusCode);

        await _verification.LinksAsync(report.Uscc, verifier);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("unit", general).GetAsync($"/api/units/{report.Uscc}/reports/{Year}/verification", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client("district", "朝阳区").GetAsync($"/api/units/{report.Uscc}/reports/{Year}/verification", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client().GetAsync($"/api/units/{report.Uscc}/reports/{Year}/verification", Ct)).StatusCode);
    }
}

/// <summary>Links that live two seconds, to see expiry enforced.</summary>
public sealed class ShortLinkFixture : EtsAppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Ets:Uploads:LinkLifetime"] = "00:00:02" };
}

/// <summary>A report size limit of 4 KiB, with links of the usual lifetime (a loaded machine may take seconds to upload).</summary>
public sealed class SmallReportFixture : EtsAppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Ets:Verification:MaxReportBytes"] = "4096" };
}

public sealed class VerificationLimitTests(ShortLinkFixture app) : IClassFixture<ShortLinkFixture>
{
    private readonly VerificationClient _verification = new(app);

    [Fact]
    public async Task AnExpiredLink_WritesNothing()
    {
        var report = await _verification.ReportedKeyUnitAsync();
        var links = await _verification.LinksAsync(report.Uscc, await _verification.EligibleVerifierAsync());

        await Task.Delay(TimeSpan.FromSeconds(3.5), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(links, "reportUploadUrl", Pdf(), "application/pdf")).StatusCode);
        Assert.Equal("awaiting-upload", (await _verification.StatusAsync(report.Uscc)).GetProperty("status").GetString());
    }
}

public sealed class ReportSizeLimitTests(SmallReportFixture app) : IClassFixture<SmallReportFixture>
{
    private readonly VerificationClient _verification = new(app);

    [Fact]
    public async Task AnOversizedReport_IsRejected_WithTheLimit()
    {
        var big = Pdf(string.Join(" ", Enumerable.Range(0, 2000)));
        Assert.True(big.Length > 4096);
        var report = await _verification.ReportedKeyUnitAsync();
        var verifier = await _verification.EligibleVerifierAsync();
        var links = await _verification.LinksAsync(report.Uscc, verifier);

        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(links, "reportUploadUrl", big, "application/pdf")).StatusCode);

        var status = await _verification.SettledAsync(report.Uscc);
        Assert.Equal("rejected", status.GetProperty("status").GetString());
        Assert.Contains($"is {big.Length} bytes, over the 4096-byte limit", status.GetProperty("reason").GetString());
        Assert.Empty(status.GetProperty("documents").EnumerateArray());
        // Refused on the event's content length: staged, never copied into write-once storage.
        var name = $"verification/{report.Uscc}/{Year}/{links.GetProperty("engagementId").GetString()}/report.pdf";
        Assert.True(await app.Storage.Container(StorageNames.Containers.Staging).GetBlobClient(name).ExistsAsync(TestContext.Current.CancellationToken));
        Assert.False(await app.Storage.Container(StorageNames.Containers.Uploads).GetBlobClient(name).ExistsAsync(TestContext.Current.CancellationToken));
    }
}
