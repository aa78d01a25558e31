using System.Net.Http.Headers;
using BeijingEts.Functions.Tests.Lists;
using BeijingEts.Functions.Tests.Runtime;

namespace BeijingEts.Functions.Tests.Portal;

public sealed class ServingPortalFixture : EtsAppFixture;

/// <summary>The portal's files at /, its config document, and the development sign-in, locally (Development, local issuer).</summary>
public sealed class ServingPortalTests(ServingPortalFixture app) : IClassFixture<ServingPortalFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<HttpResponseMessage> SignInAsync(HttpClient client, object body) =>
        client.PostAsync("/dev/sign-in", new StringContent(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json"), Ct);

    [Fact]
    public async Task TheRoot_ServesThePortal_WithACspThatAllowsOnlyItselfAndTheBlobEndpoint_AndNoCaching()
    {
        var response = await app.Client().GetAsync("/", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("北京市碳排放权交易管理平台", await response.Content.ReadAsStringAsync(Ct));
        var csp = string.Join(" ", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self';", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains(app.Storage.Blobs.Uri.GetLeftPart(UriPartial.Authority), csp);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        Assert.Equal("nosniff", string.Join("", response.Headers.GetValues("X-Content-Type-Options")));

        var echarts = await app.Client().GetAsync("/vendor/echarts.min.js", Ct);
        Assert.Equal(HttpStatusCode.OK, echarts.StatusCode);
        Assert.Equal(TimeSpan.FromDays(1), echarts.Headers.CacheControl?.MaxAge);
        Assert.Equal(HttpStatusCode.OK, (await app.Client().GetAsync("/js/app.js", Ct)).StatusCode);
        // The package files and node_modules are not published with the portal.
        Assert.NotEqual(HttpStatusCode.OK, (await app.Client().GetAsync("/package.json", Ct)).StatusCode);
    }

    [Fact]
    public async Task Locally_TheConfigSaysLocal_AndTheDevelopmentSignIn_MintsATokenTheApiAccepts()
    {
        var config = await app.Client().GetFromJsonAsync<JsonElement>("/config.json", Ct);
        Assert.Equal("local", config.GetProperty("mode").GetString());
        Assert.Equal("/api", config.GetProperty("api").GetString());
        var uscc = await TestUnits.RegisterAsync(app.Client("regulator"));

        var response = await SignInAsync(app.Client(), new { role = "unit", scope = uscc.ToLowerInvariant() });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(uscc, answer.GetProperty("scope").GetString());
        var unit = app.Client();
        unit.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", answer.GetProperty("token").GetString());
        var own = await unit.GetAsync($"/api/units/{uscc}", Ct);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        // The same token as token.sh's: a unit, scoped to itself.
        Assert.Equal(HttpStatusCode.NotFound, (await unit.GetAsync($"/api/units/{TestUnits.NewUscc()}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await unit.GetAsync("/api/audit", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = app.BaseAddress }.GetAsync("/dev/sign-in", Ct)).StatusCode);
    }

    [Theory]
    [InlineData("root", null, "role must be one of")]
    [InlineData("unit", null, "unified social credit code")]
    [InlineData("unit", "91110000600037341X", "unified social credit code")]
    [InlineData("district", "东京都", "names its district")]
    [InlineData("exchange", "someone", "takes no scope")]
    [InlineData("regulator", "alice bob", "regulator's name")]
    public async Task TheDevelopmentSignIn_RefusesWhatTokenShRefuses(string role, string? scope, string detail)
    {
        var response = await SignInAsync(app.Client(), new { role, scope });

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, detail);
    }

    [Fact]
    public async Task TheDevelopmentSignIn_AnswersNoPageServedUnderAnotherName_AsARebindingAttackerWouldSendIt()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/dev/sign-in") { Content = new StringContent("{\"role\":\"regulator\"}", System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Host = "attacker.example";

        var response = await app.Client().SendAsync(request, Ct);

        var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden, "this machine only");
        Assert.DoesNotContain("token", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDevelopmentSignIn_TakesJsonOnly_SoAnotherSitesFormCannotPostIt()
    {
        var form = await app.Client().PostAsync("/dev/sign-in", new FormUrlEncodedContent(new Dictionary<string, string> { ["role"] = "regulator" }), Ct);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, form.StatusCode);
        await (await app.Client().PostAsync("/dev/sign-in", new StringContent("{", System.Text.Encoding.UTF8, "application/json"), Ct)).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Calculate_ComputesAsTheReportSubmissionDoes_AndSavesNothing()
    {
        var reporting = new Reporting.ReportingClient(app);
        var year = Reporting.ReportingClient.CurrentYear - 1;
        await reporting.SetFactorsAsync(year);
        var uscc = await reporting.ListedUnitAsync(year);
        var unit = app.Client("unit", uscc);
        var report = Reporting.ReportingClient.Report();
        var figures = JsonSerializer.SerializeToElement(report, new JsonSerializerOptions(JsonSerializerDefaults.Web));
        var body = new Dictionary<string, object?> { ["year"] = year };
        foreach (var property in figures.EnumerateObject().Where(p => p.Name != "declaration")) body[property.Name] = property.Value;

        var response = await unit.PostAsJsonAsync("/api/reports/calculate", body, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
        var calculated = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);

        Assert.Equal(HttpStatusCode.NotFound, (await unit.GetAsync($"/api/units/{uscc}/reports/{year}", Ct)).StatusCode);
        var submitted = await reporting.SubmitAsync(uscc, year, report);
        foreach (var total in new[] { "directEmissionsT", "indirectEmissionsT", "totalEmissionsT" })
            Assert.Equal(submitted.GetProperty(total).GetInt64(), calculated.GetProperty(total).GetInt64());
        Assert.Equal(submitted.GetProperty("calculation").GetProperty("fuelLines").GetRawText(), calculated.GetProperty("fuelLines").GetRawText());
        var bad = await unit.PostAsJsonAsync("/api/reports/calculate", new { year, fuels = new[] { new { fuel = "peat", quantity = 1, unit = "t" } } }, Ct);
        await bad.AssertProblemAsync(HttpStatusCode.BadRequest, "not a fuel of this year's emission factors");
        await (await unit.PostAsJsonAsync("/api/reports/calculate", new { year = 1999 }, Ct)).AssertProblemAsync(HttpStatusCode.BadRequest, "out of range");
        await (await unit.PostAsJsonAsync("/api/reports/calculate", new { year = 2099 }, Ct)).AssertProblemAsync(HttpStatusCode.NotFound, "No emission factors");
    }
}

/// <summary>GET /api/verifiers/{uscc}/work: a body's engagements with how processing ended, for the body alone (and the regulator).</summary>
public sealed class VerifierWorkPortalTests(ServingPortalFixture app) : IClassFixture<ServingPortalFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ARejectedUpload_ShowsItsReasonToTheBody_AndNoOtherBodyOrUnitReadsIt()
    {
        var verification = new Verification.VerificationClient(app);
        var report = await verification.ReportedKeyUnitAsync();
        var verifier = await verification.EligibleVerifierAsync();
        var other = await verification.EligibleVerifierAsync();
        var links = await verification.LinksAsync(report.Uscc, verifier);
        await Verification.VerificationClient.UploadAsync(links, "reportUploadUrl", Verification.VerificationClient.Pdf(), "application/pdf");
        await Verification.VerificationClient.UploadAsync(links, "statementUploadUrl", Verification.VerificationClient.Statement(report, year: Verification.VerificationClient.Year - 1), "application/json");
        Assert.Equal("rejected", (await verification.SettledAsync(report.Uscc)).GetProperty("status").GetString());

        var work = await app.Client("verifier", verifier).GetFromJsonAsync<JsonElement>($"/api/verifiers/{verifier}/work", Ct);

        var item = Assert.Single(work.EnumerateArray());
        Assert.Equal((links.GetProperty("engagementId").GetString(), report.Uscc, "rejected"),
            (item.GetProperty("engagementId").GetString(), item.GetProperty("unit").GetString(), item.GetProperty("status").GetString()));
        Assert.Contains($"statement is for {Verification.VerificationClient.Year - 1}", item.GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, item.GetProperty("verifiedEmissionsT").ValueKind);
        Assert.Single((await app.Client("regulator").GetFromJsonAsync<JsonElement>($"/api/verifiers/{verifier}/work", Ct)).EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("verifier", other).GetAsync($"/api/verifiers/{verifier}/work", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("unit", report.Uscc).GetAsync($"/api/verifiers/{verifier}/work", Ct)).StatusCode);
        Assert.Empty((await app.Client("verifier", other).GetFromJsonAsync<JsonElement>($"/api/verifiers/{other}/work", Ct)).EnumerateArray());
    }
}

/// <summary>Anywhere but a local Development run (here: under the Functions host, with Entra ID) the development sign-in is not there.</summary>
public sealed class EntraModePortalTests(CustomHandlerFixture app) : IClassFixture<CustomHandlerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UnderTheHost_TheDevelopmentSignInAnswers404_AndTheConfigSaysEntra()
    {
        var post = await app.Client().PostAsync("/dev/sign-in", new StringContent("{\"role\":\"regulator\"}", System.Text.Encoding.UTF8, "application/json"), Ct);
        await post.AssertProblemAsync(HttpStatusCode.NotFound);
        await (await app.Client().GetAsync("/dev/sign-in", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);

        var config = await app.Client().GetFromJsonAsync<JsonElement>("/config.json", Ct);
        Assert.Equal("entra", config.GetProperty("mode").GetString());
        Assert.Equal(EntraTestIssuer.Audience + "/.default", config.GetProperty("entra").GetProperty("scope").GetString());
    }
}
