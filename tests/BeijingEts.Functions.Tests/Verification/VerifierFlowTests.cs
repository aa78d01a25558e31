using static BeijingEts.Functions.Tests.Verification.VerificationClient;

namespace BeijingEts.Functions.Tests.Verification;

public sealed class VerifierFlowFixture : EtsAppFixture;

/// <summary>
/// Issue 15, harm 2: a unit could verify itself, since both upload links were handed to it. Now the unit engages a body
/// (Art. 24) and only that body, with its own verifier token, obtains the links (Art. 21, 25).
/// </summary>
public sealed class VerifierFlowTests(VerifierFlowFixture app) : IClassFixture<VerifierFlowFixture>
{
    private readonly VerificationClient _verification = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void AssertNoUploadLink(string json)
    {
        Assert.DoesNotContain("uploadurl", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("sig=", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheUnitCannotObtainUploadLinks_OnlyTheEngagedBodyCan()
    {
        var report = await _verification.ReportedKeyUnitAsync();
        var verifier = await _verification.EligibleVerifierAsync();
        var other = await _verification.EligibleVerifierAsync();
        var unit = app.Client("unit", report.Uscc);

        var engaged = await _verification.EngageAsync(report.Uscc, verifier);
        var answer = await engaged.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.Created, engaged.StatusCode);
        AssertNoUploadLink(answer);
        var engagement = JsonDocument.Parse(answer).RootElement;
        var id = engagement.GetProperty("engagementId").GetString()!;
        Assert.Equal(verifier, engagement.GetProperty("verifier").GetString());
        Assert.Equal("awaiting-upload", engagement.GetProperty("status").GetString());
        AssertNoUploadLink(await unit.GetStringAsync($"/api/units/{report.Uscc}/reports/{Year}/verification", Ct));

        Assert.Equal(HttpStatusCode.Forbidden, (await _verification.RequestLinksAsync(verifier, id, unit)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _verification.RequestLinksAsync(verifier, id, app.Client("regulator"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _verification.RequestLinksAsync(verifier, id, app.Client("district", "朝阳区"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _verification.RequestLinksAsync(verifier, id, app.Client())).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _verification.RequestLinksAsync(verifier, id, app.Client("verifier", other))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _verification.RequestLinksAsync(other, id, app.Client("verifier", other))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _verification.RequestLinksAsync(verifier, id, app.Client("verifier", report.Uscc))).StatusCode);

        var issued = await _verification.RequestLinksAsync(verifier, id);
        Assert.Equal(HttpStatusCode.OK, issued.StatusCode);
        var links = await issued.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.InRange(links.GetProperty("expiresOn").GetDateTimeOffset(), DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(24));
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(links, "reportUploadUrl", Pdf(), "application/pdf")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await UploadAsync(links, "statementUploadUrl", Statement(report), "application/json")).StatusCode);
        Assert.Equal("accepted", (await _verification.SettledAsync(report.Uscc)).GetProperty("status").GetString());

        var trail = await app.Client("regulator").GetFromJsonAsync<JsonElement>($"/api/audit?subject={Uri.EscapeDataString($"units/{report.Uscc}/reports/{Year}")}", Ct);
        var issuance = Assert.Single(trail.GetProperty("entries").EnumerateArray(), e => e.GetProperty("action").GetString() == "verification.links-issued");
        Assert.Equal("verifier", issuance.GetProperty("actorRole").GetString());
        Assert.Equal(verifier, issuance.GetProperty("actorScope").GetString());
        var done = await _verification.RequestLinksAsync(verifier, id);
        Assert.Contains("already accepted", (await done.AssertProblemAsync(HttpStatusCode.Conflict)).Detail);
    }

    [Fact]
    public async Task ABody_ListsItsOwnEngagementsNewestFirst_AndNoOtherCaller_SaveTheRegulator_CanListThem()
    {
        var first = await _verification.ReportedKeyUnitAsync();
        var second = await _verification.ReportedKeyUnitAsync();
        var verifier = await _verification.EligibleVerifierAsync();
        var other = await _verification.EligibleVerifierAsync();
        var superseded = (await _verification.EngagementAsync(first.Uscc, verifier)).GetProperty("engagementId").GetString()!;
        var forSecond = (await _verification.EngagementAsync(second.Uscc, verifier)).GetProperty("engagementId").GetString()!;
        var current = (await _verification.EngagementAsync(first.Uscc, verifier)).GetProperty("engagementId").GetString()!;

        var listed = await app.Client("verifier", verifier).GetFromJsonAsync<JsonElement>($"/api/verifiers/{verifier}/engagements", Ct);

        Assert.Equal([current, forSecond, superseded], listed.EnumerateArray().Select(e => e.GetProperty("engagementId").GetString()!));
        Assert.Equal(["awaiting-upload", "awaiting-upload", "superseded"], listed.EnumerateArray().Select(e => e.GetProperty("status").GetString()!));
        Assert.Equal(second.Uscc, listed[1].GetProperty("unit").GetString());
        Assert.Equal(first.Version, listed[0].GetProperty("reportVersion").GetInt32());
        Assert.Equal(3, (await app.Client("regulator").GetFromJsonAsync<JsonElement>($"/api/verifiers/{verifier}/engagements", Ct)).GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("verifier", other).GetAsync($"/api/verifiers/{verifier}/engagements", Ct)).StatusCode);
        Assert.Empty((await app.Client("verifier", other).GetFromJsonAsync<JsonElement>($"/api/verifiers/{other}/engagements", Ct)).EnumerateArray());
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("unit", first.Uscc).GetAsync($"/api/verifiers/{verifier}/engagements", Ct)).StatusCode);

        var stale = await _verification.RequestLinksAsync(verifier, superseded);
        Assert.Contains("superseded", (await stale.AssertProblemAsync(HttpStatusCode.Conflict)).Detail);
        await (await _verification.RequestLinksAsync(verifier, "not-an-engagement")).AssertProblemAsync(HttpStatusCode.NotFound);
    }
}
