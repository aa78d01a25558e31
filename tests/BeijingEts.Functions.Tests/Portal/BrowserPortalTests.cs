using System.Globalization;
using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Allocation;
using BeijingEts.Functions.Tests.Lists;
using BeijingEts.Functions.Tests.Reporting;
using BeijingEts.Functions.Tests.Verification;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BeijingEts.Functions.Tests.Portal;

public sealed class BrowserPortalFixture : FastQueueFixture;

/// <summary>
/// The portal in headless Chromium against the real app and Azurite: each test signs in on the development page as a
/// person of one role, does what that person does there, and checks what the page shows against the API.
/// </summary>
public sealed class BrowserPortalTests(BrowserPortalFixture app, Browser browser) : IClassFixture<BrowserPortalFixture>, IClassFixture<Browser>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Tonnes(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    [Fact]
    public async Task AVerifier_UploadsTheReportAndTheStatementThroughThePage_AndSeesThemAccepted()
    {
        var verification = new VerificationClient(app);
        var report = await verification.ReportedKeyUnitAsync();
        var verifier = await verification.EligibleVerifierAsync();
        var engagement = (await verification.EngagementAsync(report.Uscc, verifier)).GetProperty("engagementId").GetString()!;
        var page = await browser.NewPageAsync(app.BaseAddress);

        await page.SignInAsync("verifier", verifier);
        await page.OpenAsync("engagements");
        var row = page.Locator($"tr[data-engagement='{engagement}']");
        await Expect(row.Locator("[data-status='awaiting-upload']")).ToBeVisibleAsync();
        await row.Locator("input[data-file='report']").SetInputFilesAsync(new FilePayload { Name = "核查报告.pdf", MimeType = "application/pdf", Buffer = VerificationClient.Pdf() });
        await row.Locator("input[data-file='statement']").SetInputFilesAsync(new FilePayload { Name = "statement.json", MimeType = "application/json", Buffer = VerificationClient.Statement(report) });
        await row.Locator("form.upload button[type='submit']").ClickAsync();

        var accepted = page.Locator($"tr[data-engagement='{engagement}'] [data-status='accepted']");
        await Expect(accepted).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(accepted).ToContainTextAsync("accepted");
        await Expect(page.Locator($"tr[data-engagement='{engagement}'] td[data-label='核查排放量（吨）']")).ToHaveTextAsync(Tonnes(report.Total));
        Assert.Equal("accepted", (await verification.StatusAsync(report.Uscc)).GetProperty("status").GetString());
        await page.ScreenshotAsync("verifier");

        // English on request, and it stays chosen.
        await page.Locator("#lang").ClickAsync();
        await Expect(page.Locator($"tr[data-engagement='{engagement}'] [data-status='accepted']")).ToContainTextAsync("Accepted");
        await page.ReloadAsync();
        await Expect(page.Locator("section.page h1")).ToHaveTextAsync("Engagements");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "en");
        page.AssertNoPageProblems();
    }

    [Fact]
    public async Task AUnit_FillsItsReport_SeesTheTotalTheApiComputes_AsItTypes_AndSubmitsIt()
    {
        var reporting = new ReportingClient(app);
        var year = ReportingClient.CurrentYear - 1;
        await reporting.SetFactorsAsync(year);
        var uscc = await reporting.ListedUnitAsync(year);
        // What the API computes for these figures: the same calculation PUT runs, asked for without saving.
        var figures = new
        {
            year,
            fuels = new object[] { new { fuel = "natural-gas", quantity = 123.4m, unit = "10^4 Nm3" }, new { fuel = "raw-coal", quantity = 2345m, unit = "t" } },
            processes = new[] { new { source = "石灰石分解", emissionsT = 56.7m } },
            purchasedElectricityMWh = 3100m,
            purchasedHeatGJ = 800m,
            nonFossilElectricityMWh = 600m,
            nonFossilEvidence = "绿证 GEC-2025-0001..0600",
        };
        var calculated = await app.Client("unit", uscc).PostAsJsonAsync("/api/reports/calculate", figures, Ct);
        Assert.Equal(HttpStatusCode.OK, calculated.StatusCode);
        var expected = (await calculated.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("totalEmissionsT").GetInt64();
        var page = await browser.NewPageAsync(app.BaseAddress);

        await page.SignInAsync("unit", uscc);
        await page.OpenAsync("report");
        await page.Locator("#fuel-natural-gas").FillAsync("123.4");
        await page.Locator("#fuel-raw-coal").FillAsync("2345");
        await page.Locator("#process-source").FillAsync("石灰石分解");
        await page.Locator("#process-t").FillAsync("56.7");
        await page.Locator("#electricity").FillAsync("3100");
        await page.Locator("#non-fossil").FillAsync("600");
        await page.Locator("#non-fossil-evidence").FillAsync("绿证 GEC-2025-0001..0600");
        await page.Locator("#heat").FillAsync("800");
        await page.Locator("#activity-product").FillAsync("clinker-t");
        await page.Locator("#activity-quantity").FillAsync("10000");
        await page.Locator("#signed-by").FillAsync("张伟");
        await page.Locator("#signed-title").FillAsync("法定代表人");

        await Expect(page.Locator("#calc-total")).ToHaveTextAsync(Tonnes(expected));
        await Expect(page.Locator("#calculation tr")).ToHaveCountAsync(8); // two fuels, the process, direct, electricity, heat, indirect, total: line by line
        await page.Locator("#report-submit").ClickAsync();
        await Expect(page.Locator("#submitted")).ToHaveAttributeAsync("data-total", expected.ToString(CultureInfo.InvariantCulture));
        var saved = await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/reports/{year}", Ct);
        Assert.Equal(expected, saved.GetProperty("totalEmissionsT").GetInt64());
        await page.ScreenshotAsync("unit");

        // On a phone the form and the calculation stack in one column, and nothing is wider than the screen.
        await page.SetViewportSizeAsync(390, 844);
        await Expect(page.Locator("#calc-total")).ToHaveTextAsync(Tonnes(expected));
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the report page scrolls sideways on a phone");
        var form = await page.Locator("#report-form").BoundingBoxAsync();
        var calculation = await page.Locator("#calculation").BoundingBoxAsync();
        Assert.True(calculation!.Y > form!.Y + form.Height, "the calculation follows the form on a phone");
        await page.ScreenshotAsync("unit-phone");
        page.AssertNoPageProblems();
    }

    [Fact]
    public async Task AUnit_SeesItsAllocation_AndObjectsToItFromThePage()
    {
        // The year the portal opens on when no list is published: the last full year in Beijing.
        var year = ReportingClient.CurrentYear - 1;
        var uscc = await TestUnits.RegisterAsync(app.Client("regulator"));
        var today = DateOnly.FromDateTime(DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).DateTime);
        await app.Service<AllocationStore>().PutManyAsync([new UnitAllocation(year, uscc, "cement", "historical-total", new Tonnes(10_000), new Tonnes(7_000), today, null)], Ct);
        var page = await browser.NewPageAsync(app.BaseAddress);

        await page.SignInAsync("unit", uscc);
        await page.OpenAsync("allocation");
        await Expect(page.Locator("[data-section='allocation'] dl")).ToContainTextAsync("7,000");
        await Expect(page.Locator("[data-section='compliance'] [data-status]")).ToHaveAttributeAsync("data-status", "no-confirmed-emissions");
        await page.Locator("#objection-reason").FillAsync("基准年排放量有误：2019 年数据未计入新增生产线的停产月份");
        await page.Locator("#object").ClickAsync();

        await Expect(page.Locator("#toast")).ToHaveTextAsync("异议已提交");
        // Filed once: a second objection while the first is open is refused.
        var again = await app.Client("unit", uscc).PostAsJsonAsync($"/api/allocation/{year}/units/{uscc}/objections", new { reason = "again" }, Ct);
        await again.AssertProblemAsync(HttpStatusCode.Conflict);
        await page.ScreenshotAsync("unit-allocation");
        page.AssertNoPageProblems();
    }

    [Fact]
    public async Task TheNoticesPage_ShowsTheInboxAsTheNotificationsContractHasIt_AndMarksANoticeRead()
    {
        // The inbox is the other half of issue 19: the page is held to its contract, answered here by the browser itself.
        var uscc = await TestUnits.RegisterAsync(app.Client("regulator"));
        var page = await browser.NewPageAsync(app.BaseAddress);
        var read = new List<(string Url, string? Authorization)>();
        var unread = true;
        await page.RouteAsync("**/api/notifications", route => route.FulfillAsync(new()
        {
            ContentType = "application/json",
            Body = JsonSerializer.Serialize(new
            {
                notifications = new[]
                {
                    new
                    {
                        id = "n-1", kind = "allocation-result", subjectZh = "2025 年度配额预分配结果", subjectEn = "Pre-allocation 2025",
                        bodyZh = "您单位 2025 年度预发配额 7,000 吨。<script>document.title='pwned'</script>", bodyEn = "Your 2025 pre-allocation: 7,000 t.",
                        link = $"/api/allocation/2025/units/{uscc}", createdAt = "2026-12-01T02:00:00Z", readAt = unread ? null : "2026-12-01T03:00:00Z",
                        deliveredAt = "2026-12-01T02:00:05Z", delivery = "delivered",
                    },
                },
                unread = unread ? 1 : 0,
            }),
        }));
        await page.RouteAsync("**/api/notifications/*/read", async route =>
        {
            read.Add((route.Request.Url, await route.Request.HeaderValueAsync("authorization")));
            unread = false;
            await route.FulfillAsync(new() { ContentType = "application/json", Body = "{}" });
        });

        await page.SignInAsync("unit", uscc);
        await page.OpenAsync("notices");
        var notice = page.Locator("li[data-notice='n-1']");
        await Expect(notice).ToContainTextAsync("2025 年度配额预分配结果");
        await Expect(notice.Locator(".notice-body")).ToHaveTextAsync("您单位 2025 年度预发配额 7,000 吨。<script>document.title='pwned'</script>");
        await Expect(notice).ToHaveClassAsync("unread");
        await Expect(notice.Locator("a")).ToHaveAttributeAsync("href", "#/allocation");
        await notice.Locator("button").ClickAsync();

        await Expect(page.Locator("li[data-notice='n-1']")).ToHaveClassAsync("read");
        var (url, authorization) = Assert.Single(read);
        Assert.EndsWith("/api/notifications/n-1/read", url);
        Assert.StartsWith("Bearer ", authorization);
        await page.Locator("#lang").ClickAsync();
        await Expect(page.Locator("li[data-notice='n-1']")).ToContainTextAsync("Pre-allocation 2025");
        Assert.NotEqual("pwned", await page.TitleAsync());
        page.AssertNoPageProblems();
    }

    [Fact]
    public async Task ADistrict_RecordsAFinding_AndSignsOffACheckFromItsQueue()
    {
        var reporting = new ReportingClient(app);
        var year = ReportingClient.CurrentYear - 1;
        await reporting.SetFactorsAsync(year);
        var general = await reporting.ListedUnitAsync(year, key: false, district: "海淀区");
        await reporting.SubmitAsync(general, year, ReportingClient.Report());
        var district = app.Client("district", "海淀区");
        var queue = await district.GetFromJsonAsync<JsonElement>($"/api/districts/{Uri.EscapeDataString("海淀区")}/checks?unit={general}", Ct);
        var checkId = Assert.Single(queue.GetProperty("checks").EnumerateArray()).GetProperty("checkId").GetString()!;
        var page = await browser.NewPageAsync(app.BaseAddress);

        await page.SignInAsync("district", "海淀区");
        await page.OpenAsync("checks");
        await page.Locator($"tr[data-check='{checkId}']").ClickAsync();
        await Expect(page.Locator("#check-state")).ToHaveAttributeAsync("data-status", "open");
        // What a person types reaches the page as text, never as markup.
        await page.Locator("#finding-text").FillAsync("燃料消耗量与购销凭证一致；热力计量表检定有效。<img src=x onerror=\"document.title='pwned'\">");
        await page.Locator("#finding-text").PressAsync("Tab");
        await page.Locator("form:has(#finding-text) button[type='submit']").ClickAsync();
        await Expect(page.Locator("ol.findings li")).ToContainTextAsync("燃料消耗量与购销凭证一致；热力计量表检定有效。<img src=x onerror=");
        await Expect(page.Locator("ol.findings img")).ToHaveCountAsync(0);
        await page.Locator("#signoff-outcome").SelectOptionAsync("passed");
        await page.Locator("#signoff-submit").ClickAsync();

        await Expect(page.Locator("#check-state")).ToHaveAttributeAsync("data-status", "closed");
        await Expect(page.Locator("#check-state")).ToContainTextAsync("已办结");
        Assert.NotEqual("pwned", await page.TitleAsync());
        var check = await district.GetFromJsonAsync<JsonElement>($"/api/checks/{checkId}", Ct);
        Assert.Equal(("closed", "passed"), (check.GetProperty("status").GetString(), check.GetProperty("outcome").GetString()));
        await page.ScreenshotAsync("district");
        page.AssertNoPageProblems();
    }
}
