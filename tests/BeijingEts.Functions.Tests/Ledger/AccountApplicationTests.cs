using BeijingEts.Functions.Storage;
using BeijingEts.Functions.Tests.Lists;

namespace BeijingEts.Functions.Tests.Ledger;

public sealed class AccountApplicationFixture : EtsAppFixture;

/// <summary>
/// Art. 13, 17: an organisation or a natural person applies for an account; the registry decides; personal data is
/// kept encrypted and shown masked to all but the registry.
/// </summary>
public sealed class AccountApplicationTests(AccountApplicationFixture app) : IClassFixture<AccountApplicationFixture>
{
    private const string PersonId = "11010519491231002X"; // the example number of GB 11643-1999
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private HttpClient Registry => app.Client("registry");

    private static object Application(string kind, string? uscc = null, string? idNumber = null, string[]? declarations = null) => new
    {
        kind,
        applicant = new { name = kind == "person" ? "张三丰" : "北京某投资有限公司", uscc, idNumber, contactName = "李四", phone = "13812345678", email = "li.si@example.cn", bankName = "中国工商银行北京分行", bankAccount = "6222020200112233445" },
        declarations = declarations ?? ["risk-understood", "information-true", "rules-accepted"],
    };

    [Fact]
    public async Task AnOrganisationApplies_TheRegistryOpensItsAccount_AndItsDataIsKeptEncryptedAndShownMasked()
    {
        var uscc = TestUnits.NewUscc();
        var applied = await app.Client("participant", uscc).PostAsJsonAsync("/api/account-applications", Application("organisation", uscc: uscc), Ct);
        Assert.Equal(HttpStatusCode.Created, applied.StatusCode);
        var view = await applied.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var id = view.GetProperty("id").GetString()!;
        Assert.Equal(("138****5678", "***************3445", true), (view.GetProperty("phone").GetString(), view.GetProperty("bankAccount").GetString(), view.GetProperty("masked").GetBoolean()));

        // At rest, no personal field is readable.
        var table = app.Service<StorageClients>().Table(StorageNames.Tables.AccountApplications);
        await foreach (var row in table.QueryAsync<Azure.Data.Tables.TableEntity>(r => r.RowKey == id, cancellationToken: Ct))
        {
            var stored = row.GetString("Document");
            Assert.DoesNotContain("13812345678", stored);
            Assert.DoesNotContain("6222020200112233445", stored);
            Assert.DoesNotContain("li.si@example.cn", stored);
        }
        var full = await Registry.GetFromJsonAsync<JsonElement>($"/api/account-applications/{id}", Ct);
        Assert.Equal(("13812345678", "6222020200112233445", false), (full.GetProperty("phone").GetString(), full.GetProperty("bankAccount").GetString(), full.GetProperty("masked").GetBoolean()));
        Assert.Equal("138****5678", (await app.Client("regulator").GetFromJsonAsync<JsonElement>($"/api/account-applications/{id}", Ct)).GetProperty("phone").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("participant", TestUnits.NewUscc()).GetAsync($"/api/account-applications/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await app.Client("participant", uscc).PostAsJsonAsync("/api/account-applications", Application("organisation", uscc: uscc), Ct)).StatusCode);

        // Before approval it has no account; after, it does.
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("regulator").GetAsync($"/api/accounts/{uscc}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("regulator").PostAsJsonAsync($"/api/account-applications/{id}/decision", new { decision = "approved", reasons = "ok" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Registry.PostAsJsonAsync($"/api/account-applications/{id}/decision", new { decision = "approved", reasons = "" }, Ct)).StatusCode);
        var approved = await Registry.PostAsJsonAsync($"/api/account-applications/{id}/decision", new { decision = "approved", reasons = "Identity and bank account verified." }, Ct);
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        Assert.Equal(uscc, (await approved.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("accountId").GetString());
        Assert.Equal(HttpStatusCode.OK, (await app.Client("regulator").GetAsync($"/api/accounts/{uscc}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await Registry.PostAsJsonAsync($"/api/account-applications/{id}/decision", new { decision = "refused", reasons = "late" }, Ct)).StatusCode);
    }

    [Fact]
    public async Task AnApplication_ForAnIdThatGotAnAccountMeanwhile_IsNotApproved()
    {
        var uscc = TestUnits.NewUscc();
        var applied = await app.Client("participant", uscc).PostAsJsonAsync("/api/account-applications", Application("organisation", uscc: uscc), Ct);
        var id = (await applied.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
        await TestUnits.RegisterAsync(app.Client("regulator"), uscc: uscc);

        var approved = await Registry.PostAsJsonAsync($"/api/account-applications/{id}/decision", new { decision = "approved", reasons = "ok" }, Ct);

        Assert.Equal(HttpStatusCode.Conflict, approved.StatusCode);
        Assert.Equal("submitted", (await Registry.GetFromJsonAsync<JsonElement>($"/api/account-applications/{id}", Ct)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task ANaturalPerson_AppliesAtTheRegistrysDesk_WithACheckedIdNumber_AndGetsAnAccountCodeOfItsOwn()
    {
        var badCheck = await Registry.PostAsJsonAsync("/api/account-applications", Application("person", idNumber: "110105194912310021"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, badCheck.StatusCode);
        Assert.Contains("wrong check character", await badCheck.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, (await Registry.PostAsJsonAsync("/api/account-applications", Application("person", idNumber: PersonId, declarations: ["risk-understood"]), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("participant", TestUnits.NewUscc()).PostAsJsonAsync("/api/account-applications", Application("person", idNumber: PersonId), Ct)).StatusCode);

        var applied = await Registry.PostAsJsonAsync("/api/account-applications", Application("person", idNumber: PersonId), Ct);
        Assert.Equal(HttpStatusCode.Created, applied.StatusCode);
        var id = (await applied.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
        var masked = await app.Client("regulator").GetFromJsonAsync<JsonElement>($"/api/account-applications/{id}", Ct);
        Assert.Equal(("110105********002X", "张**"), (masked.GetProperty("idNumber").GetString(), masked.GetProperty("name").GetString()));

        var approved = await (await Registry.PostAsJsonAsync($"/api/account-applications/{id}/decision", new { decision = "approved", reasons = "Identity checked in person." }, Ct))
            .Content.ReadFromJsonAsync<JsonElement>(Ct);
        var account = approved.GetProperty("accountId").GetString()!;
        Assert.True(BeijingEts.Domain.Lists.Uscc.TryParse(account, out _, out _), $"{account} is not an account code every route takes");
        Assert.Equal(PersonId, approved.GetProperty("idNumber").GetString());
        Assert.Equal(HttpStatusCode.OK, (await app.Client("participant", account).GetAsync($"/api/accounts/{account}", Ct)).StatusCode);
        Assert.Single((await Registry.GetFromJsonAsync<JsonElement>("/api/account-applications?status=approved", Ct)).EnumerateArray(), a => a.GetProperty("id").GetString() == id);
        var audit = await app.Client("regulator").GetFromJsonAsync<JsonElement>($"/api/audit?subject=participants/{account}", Ct);
        Assert.DoesNotContain("张三丰", audit.GetRawText()); // a person's name stays out of the trail the regulator reads

        // The registry closes a participant's empty account; a unit's it leaves to the unit and the regulator.
        var unit = await TestUnits.RegisterAsync(app.Client("regulator"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await Registry.PostAsync($"/api/accounts/{unit}/closure", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await Registry.PostAsJsonAsync($"/api/accounts/{unit}/suspensions", new { reason = "other", reference = "R-1" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Registry.PostAsync($"/api/accounts/{unit}/suspensions/x/lift", null, Ct)).StatusCode);
        var closed = await Registry.PostAsync($"/api/accounts/{account}/closure", null, Ct);
        Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
        Assert.Equal("closed", (await closed.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());
    }
}

/// <summary>An app whose personal-data key is not usable.</summary>
public sealed class NoDataKeyFixture : EtsAppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Ets:Registry:DataKey"] = "dG9vIHNob3J0" };
}

/// <summary>Without a usable key, no personal data is taken in: the applications are refused, and nothing is stored.</summary>
public sealed class NoDataKeyTests(NoDataKeyFixture app) : IClassFixture<NoDataKeyFixture>
{
    [Fact]
    public async Task WithoutAUsableKey_ApplicationsAreRefusedWith503_AndNothingIsStored()
    {
        var registry = app.Client("registry");
        var response = await registry.PostAsJsonAsync("/api/account-applications", new
        {
            kind = "person",
            applicant = new { name = "王五", idNumber = "11010519491231002X", contactName = "王五", phone = "13812345678", email = "w@example.cn", bankName = "银行", bankAccount = "62220202001122" },
            declarations = new[] { "risk-understood", "information-true", "rules-accepted" },
        }, TestContext.Current.CancellationToken);

        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Contains("Ets:Registry:DataKey", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await registry.GetAsync("/api/account-applications", TestContext.Current.CancellationToken)).StatusCode);
    }
}
